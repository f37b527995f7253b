// Checkpoints: round trip (parameters, optimizer state, trainer state, RNG stream, and stepping on), every
// file deleted / truncated / corrupted is detected with the right code and names the file, a config with other
// model dims is refused naming the key, a crashed save is ignored, rotation, the latest pointer, bf16.
// (checkpoint_integrity_test.cpp: the manifest over trainer_state.json, the step and the folder, resume latest.)
#include <fstream>

#include <nlohmann/json.hpp>

#include "io/safetensors.hpp"
#include "model/folder_manifest.hpp"
#include "train/checkpoint.hpp"
#include "train/checkpoint_dir.hpp"
#include "io/file_util.hpp"
#include "train/optimizer.hpp"
#include "train/optimizer_state.hpp"
#include "train_support.hpp"

namespace memtx::test {
namespace {

namespace fs = std::filesystem;

struct CheckpointRun {
  Transformer model;
  std::vector<train::ParamGroup> groups;
  std::unique_ptr<torch::optim::Optimizer> opt;
};

CheckpointRun make_checkpoint_run(int64_t seed, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> overrides = {"model.seed=" + std::to_string(seed), "training.base_model_lr=1e-2"};
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  CheckpointRun r{tiny_model(overrides), {}, nullptr};
  r.groups = train::build_param_groups(*r.model, train::param_group_settings(r.model->config()));
  r.opt = train::make_optimizer(r.groups, train::optimizer_settings(r.model->config()));
  return r;
}

void step(CheckpointRun& r, int64_t index) {
  r.opt->zero_grad();
  lm_loss(r.model, fixed_batch(index)).backward();
  r.opt->step();
}

train::TrainerState state_at(int64_t step_count) {
  train::TrainerState s;
  s.step = step_count;
  s.epoch = 1;
  s.data_cursor = R"({"shard": 3, "offset": 17, "order": [2, 0, 1]})";
  s.scheduler_step = step_count;
  s.best_metric = 2.5;
  return s;
}

std::string save(CheckpointRun& r, const std::string& dir, int64_t step_count, const train::TrainerState* st = nullptr) {
  return train::save_checkpoint(dir, r.model->config(), *r.model, *r.opt, r.groups, st ? *st : state_at(step_count));
}

train::TrainerState load(CheckpointRun& r, const std::string& ckpt) {
  return train::load_checkpoint(ckpt, r.model->config(), *r.model, r.opt.get(), r.groups);
}

std::map<std::string, torch::Tensor> opt_state(CheckpointRun& r) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [n, t] : train::optimizer_state_tensors(*r.opt, r.groups)) out[n] = t.clone();
  return out;
}

TEST(Checkpoint, RoundTripRestoresEverything) {
  ScratchDir out("ckpt");
  CheckpointRun a = make_checkpoint_run(1);
  step(a, 0);
  step(a, 1);
  torch::manual_seed(42);
  torch::rand({3});  // move the RNG away from a fresh seed
  const std::string path = save(a, out.path(), 2);
  EXPECT_EQ(path, out / "checkpoint-2");
  EXPECT_TRUE(train::is_complete_checkpoint(path));
  EXPECT_FALSE(fs::exists(path + ".tmp-" + std::to_string(::getpid())));
  const torch::Tensor expected_draw = torch::rand({5});  // what the stream gives right after saving

  CheckpointRun b = make_checkpoint_run(2);
  step(b, 7);  // other weights and other optimizer state
  torch::manual_seed(0);
  const train::TrainerState st = load(b, path);
  EXPECT_TRUE(torch::equal(torch::rand({5}), expected_draw)) << "RNG stream not restored";
  EXPECT_TRUE(same_parameters(*a.model, *b.model));
  const auto sa = opt_state(a), sb = opt_state(b);
  ASSERT_EQ(sa.size(), sb.size());
  for (const auto& [n, t] : sa) EXPECT_TRUE(torch::equal(t, sb.at(n))) << n;
  EXPECT_EQ(st.step, 2);
  EXPECT_EQ(st.epoch, 1);
  EXPECT_EQ(st.scheduler_step, 2);
  ASSERT_TRUE(st.best_metric.has_value());
  EXPECT_DOUBLE_EQ(*st.best_metric, 2.5);
  EXPECT_EQ(nlohmann::json::parse(st.data_cursor), nlohmann::json::parse(state_at(2).data_cursor));
  EXPECT_EQ(st.memtx_version, train::memtx_version_string());

  step(a, 2);
  step(b, 2);
  EXPECT_TRUE(same_parameters(*a.model, *b.model)) << "stepping after a load differs";
}

// Writes one checkpoint; every case gets a fresh copy of its folder.
class CheckpointCorruption : public ::testing::Test {
 protected:
  void SetUp() override {
    CheckpointRun a = make_checkpoint_run(1);
    step(a, 0);
    pristine_ = save(a, out_.path(), 1);
  }
  std::string fresh_copy(const std::string& tag) {
    const std::string dst = out_ / ("copy-" + tag);
    fs::remove_all(dst);
    fs::copy(pristine_, dst, fs::copy_options::recursive);
    return dst;
  }
  // Loading dst into a fresh model fails with code and a message naming `names`, and changes nothing.
  void expect_refused(const std::string& dst, StatusCode code, const std::vector<std::string>& names) {
    CheckpointRun b = make_checkpoint_run(9);
    step(b, 3);
    const auto before = opt_state(b);
    std::map<std::string, torch::Tensor> params;
    for (const auto& item : b.model->named_parameters()) params[item.key()] = item.value().clone();
    try {
      load(b, dst);
      ADD_FAILURE() << "loading " << dst << " succeeded";
    } catch (const Error& e) {
      EXPECT_EQ(static_cast<int>(e.code()), static_cast<int>(code)) << e.what();
      for (const auto& n : names) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
    }
    for (const auto& item : b.model->named_parameters())
      EXPECT_TRUE(torch::equal(item.value(), params.at(item.key()))) << "model touched: " << item.key();
    const auto after = opt_state(b);
    ASSERT_EQ(after.size(), before.size());
    for (const auto& [n, t] : before) EXPECT_TRUE(torch::equal(t, after.at(n))) << "optimizer touched: " << n;
  }
  ScratchDir out_{"corrupt"};
  std::string pristine_;
};

void truncate_half(const std::string& path) { fs::resize_file(path, fs::file_size(path) / 2); }

// A checkpoint folder edited on purpose gets a matching manifest again, so only the check under test refuses it.
void reseal(const std::string& dir) {
  seal_folder(dir, {"config.yaml", "model.safetensors", "optimizer.safetensors", "trainer_state.json"});
}

void flip_bytes(const std::string& path, std::streamoff offset, int count) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  for (int i = 0; i < count; ++i) {
    f.seekg(offset + i);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(offset + i);
    f.write(&c, 1);
  }
}

TEST_F(CheckpointCorruption, EachFileDeletedTruncatedOrFlipped) {
  for (const char* file : {"config.yaml", "model.safetensors", "optimizer.safetensors", "trainer_state.json"}) {
    SCOPED_TRACE(file);
    std::string d = fresh_copy(std::string("del-") + file);
    fs::remove(fs::path(d) / file);
    expect_refused(d, StatusCode::NotFound, {file});

    d = fresh_copy(std::string("trunc-") + file);
    truncate_half((fs::path(d) / file).string());
    expect_refused(d, StatusCode::Io, {file});

    d = fresh_copy(std::string("flip-") + file);
    flip_bytes((fs::path(d) / file).string(), std::string(file).find("safetensors") != std::string::npos ? 10 : 0, 3);
    expect_refused(d, StatusCode::Io, {file});
  }
  CheckpointRun c = make_checkpoint_run(3);
  try {
    load(c, out_ / "checkpoint-404");
    ADD_FAILURE() << "loading a missing folder succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::NotFound) << e.what();
    EXPECT_NE(std::string(e.what()).find("checkpoint-404"), std::string::npos) << e.what();
  }
}

TEST_F(CheckpointCorruption, FlippedTensorDataIsCaughtByTheDigest) {
  const std::string d = fresh_copy("data");
  const std::string path = (fs::path(d) / "model.safetensors").string();
  flip_bytes(path, static_cast<std::streamoff>(fs::file_size(path)) - 16, 2);  // inside the last tensor
  expect_refused(d, StatusCode::Io, {"model.safetensors", "digest"});
}

TEST_F(CheckpointCorruption, CorruptSafetensorsHeaderIsCaughtByTheReader) {
  // Rewrite trainer_state.json's record so only the safetensors reader stands in the way.
  const std::string d = fresh_copy("header");
  const std::string path = (fs::path(d) / "optimizer.safetensors").string();
  flip_bytes(path, 8, 1);  // the header's opening '{'
  const std::string sp = (fs::path(d) / "trainer_state.json").string();
  auto j = nlohmann::json::parse(io::read_text_file(sp));
  const auto digest = io::file_digest(path);
  j["files"]["optimizer.safetensors"]["fnv1a64w"] = digest.hash;
  io::atomic_write_text(sp, j.dump());
  reseal(d);
  expect_refused(d, StatusCode::Io, {"optimizer.safetensors"});
}

TEST_F(CheckpointCorruption, BadConfigTextAndMissingStateFieldsAreIoErrors) {
  std::string d = fresh_copy("yaml");
  const std::string cp = (fs::path(d) / "config.yaml").string();
  io::atomic_write_text(cp, "model: [1, 2\n");
  const std::string sp = (fs::path(d) / "trainer_state.json").string();
  auto j = nlohmann::json::parse(io::read_text_file(sp));
  j["files"]["config.yaml"]["bytes"] = io::file_digest(cp).bytes;
  j["files"]["config.yaml"]["fnv1a64w"] = io::file_digest(cp).hash;
  io::atomic_write_text(sp, j.dump());
  reseal(d);
  expect_refused(d, StatusCode::Io, {"config.yaml"});

  for (const char* key : {"step", "rng", "files", "data_cursor"}) {
    d = fresh_copy(std::string("field-") + key);
    const std::string path = (fs::path(d) / "trainer_state.json").string();
    auto state = nlohmann::json::parse(io::read_text_file(path));
    state.erase(key);
    io::atomic_write_text(path, state.dump());
    reseal(d);
    expect_refused(d, StatusCode::Io, {"trainer_state.json", "missing field '" + std::string(key) + "'"});
  }
}

TEST_F(CheckpointCorruption, OtherModelDimsAreAConfigErrorNamingTheKey) {
  CheckpointRun wide = make_checkpoint_run(1, {"model.intermediate_dim=48"});
  try {
    load(wide, pristine_);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Config) << e.what();
    EXPECT_NE(std::string(e.what()).find("model.intermediate_dim"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("config.yaml"), std::string::npos) << e.what();
  }
  // Another optimizer kind is a config error naming training.optimizer.
  CheckpointRun sgd = make_checkpoint_run(1, {"training.optimizer=sgd"});
  try {
    load(sgd, pristine_);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Config) << e.what();
    EXPECT_NE(std::string(e.what()).find("training.optimizer"), std::string::npos) << e.what();
  }
  // Weights only (no optimizer) loads into any optimizer kind.
  train::load_checkpoint(pristine_, sgd.model->config(), *sgd.model, nullptr, {});
}

// What memtx adds is compared where it exists: LoRA on/off and its rank and targets, the memory layout as computed
// (equivalent placements agree), the memory sublayers' shape keys; settings of absent parts do not matter.
TEST(CheckpointConfig, LoraAndMemoryStructureIsComparedWhereItExists) {
  auto message = [](const std::vector<std::string>& saved, const std::vector<std::string>& current) -> std::string {
    try {
      train::check_config_compatible(tiny_config(saved), tiny_config(current), "ckpt/config.yaml");
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::Config);
      return e.what();
    }
    return "";
  };
  const std::vector<std::string> lora = {"memory.vanilla_mode=false", "memory.use_memory_adapter=false",
                                         "memory.use_lora=true"};
  auto with = [](std::vector<std::string> base, const std::vector<std::string>& more) {
    base.insert(base.end(), more.begin(), more.end());
    return base;
  };
  EXPECT_NE(message(lora, {"memory.vanilla_mode=false", "memory.use_memory_adapter=false"}).find("LoRA"),
            std::string::npos);
  EXPECT_NE(message(lora, with(lora, {"memory.lora_rank=4"})).find("memory.lora_rank is 16 in the checkpoint but 4"),
            std::string::npos);
  EXPECT_NE(message(lora, with(lora, {"memory.lora_targets=[q_proj]"})).find("memory.lora_targets"), std::string::npos);
  EXPECT_EQ(message({}, {"memory.lora_rank=4", "memory.memory_layer_k=1"}), "");  // vanilla: no LoRA, no memory

  const std::vector<std::string> memory = {"memory.vanilla_mode=false", "memory.num_memory_tokens=8"};
  EXPECT_EQ(message(with(memory, {"memory.memory_layer_placement=all"}),
                    with(memory, {"memory.memory_layer_placement=every_n", "memory.memory_layer_n=1"})),
            "");  // the same blocks read the same bank
  EXPECT_NE(message(with(memory, {"memory.memory_layer_placement=first_k", "memory.memory_layer_k=1"}),
                    with(memory, {"memory.memory_layer_placement=first_k", "memory.memory_layer_k=2"}))
                .find("the memory layout"),
            std::string::npos);
  EXPECT_NE(message(memory, with(memory, {"memory.memory_sharing=per_layer"})).find("[0, 0] in the checkpoint but [0, 1]"),
            std::string::npos);
  EXPECT_NE(message(memory, with(memory, {"memory.use_chapters=true", "memory.num_chapters=2"})).find("memory.use_chapters"),
            std::string::npos);
  EXPECT_EQ(message(memory, with(memory, {"memory.num_chapters=2"})), "");  // chapters off in both
}

TEST(CheckpointDir, CrashedSaveIsIgnoredAndStaleTemporariesRemoved) {
  ScratchDir out("crash");
  CheckpointRun a = make_checkpoint_run(1);
  step(a, 0);
  const std::string good = save(a, out.path(), 2);
  // A crash while writing checkpoint-9: a complete-looking temporary folder of a dead process.
  const std::string tmp = out / "checkpoint-9.tmp-2147483646";
  fs::copy(good, tmp, fs::copy_options::recursive);
  // And a checkpoint-7 whose files were lost.
  fs::create_directories(out / "checkpoint-7");
  EXPECT_EQ(train::find_latest_checkpoint(out.path()), std::optional<std::string>(good));
  EXPECT_EQ(train::read_latest_pointer(out.path()), std::optional<std::string>("checkpoint-2"));
  // A stale pointer (crash between rename and pointer update) loses to the newer complete folder.
  const std::string newer = save(a, out.path(), 5);
  train::write_latest_pointer(out.path(), "checkpoint-2");
  EXPECT_EQ(train::find_latest_checkpoint(out.path()), std::optional<std::string>(newer));
  EXPECT_FALSE(fs::exists(tmp)) << "save removes temporaries of dead processes";
  EXPECT_EQ(train::find_latest_checkpoint(out / "nothing-here"), std::nullopt);
}

TEST(CheckpointDir, SavingTheSameStepTwiceReplacesTheFolder) {
  ScratchDir out("replace");
  CheckpointRun a = make_checkpoint_run(1);
  step(a, 0);
  save(a, out.path(), 3);
  step(a, 1);
  const std::string path = save(a, out.path(), 3);
  CheckpointRun b = make_checkpoint_run(2);
  load(b, path);
  EXPECT_TRUE(same_parameters(*a.model, *b.model));
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(out.path())) entries += e.is_directory() ? 1 : 0;
  EXPECT_EQ(entries, 1u);
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : train::list_checkpoints(dir)) out.push_back(e.name);
  return out;
}

TEST(CheckpointDir, RotationKeepsTheMostRecentAndTheBest) {
  for (bool keep_best : {true, false}) {
    ScratchDir out(keep_best ? "rot_best" : "rot");
    CheckpointRun a = make_checkpoint_run(1, {"training.save_total_limit=2", std::string("training.save_best_model=") +
                                                            (keep_best ? "true" : "false")});
    step(a, 0);
    for (int64_t s = 1; s <= 5; ++s) {
      train::TrainerState st = state_at(s);
      if (s >= 2) st.best_checkpoint = "checkpoint-2";
      save(a, out.path(), s, &st);
    }
    if (keep_best)
      EXPECT_EQ(names_in(out.path()), (std::vector<std::string>{"checkpoint-2", "checkpoint-4", "checkpoint-5"}));
    else
      EXPECT_EQ(names_in(out.path()), (std::vector<std::string>{"checkpoint-4", "checkpoint-5"}));
    EXPECT_EQ(train::read_latest_pointer(out.path()), std::optional<std::string>("checkpoint-5"));
  }
  ScratchDir out("rot_null");
  CheckpointRun a = make_checkpoint_run(1, {"training.save_total_limit=null"});
  for (int64_t s = 1; s <= 4; ++s) save(a, out.path(), s);
  EXPECT_EQ(names_in(out.path()).size(), 4u);
  EXPECT_EQ(train::rotate_checkpoints(out.path(), 1, "checkpoint-1"), (std::vector<std::string>{"checkpoint-2", "checkpoint-3"}));
}

TEST(Checkpoint, Bf16HalvesTheWeightsAndRestoresWithinBf16Precision) {
  ScratchDir out32("fp32"), out16("bf16");
  CheckpointRun a32 = make_checkpoint_run(1);
  CheckpointRun a16 = make_checkpoint_run(1, {"training.save_precision=bf16"});
  const std::string p32 = save(a32, out32.path(), 1), p16 = save(a16, out16.path(), 1);
  auto data_bytes = [](const std::string& path) {
    const auto size = fs::file_size(path);
    std::ifstream f(path, std::ios::binary);
    unsigned char len[8];
    f.read(reinterpret_cast<char*>(len), 8);
    uint64_t header = 0;
    for (int i = 7; i >= 0; --i) header = (header << 8) | len[i];
    return size - 8 - header;
  };
  const std::string m32 = p32 + "/model.safetensors", m16 = p16 + "/model.safetensors";
  EXPECT_EQ(data_bytes(m16) * 2, data_bytes(m32));
  EXPECT_LT(static_cast<double>(fs::file_size(m16)), 0.55 * static_cast<double>(fs::file_size(m32)));
  for (const auto& [name, t] : io::read_safetensors(m16).tensors) EXPECT_EQ(t.scalar_type(), torch::kBFloat16) << name;

  CheckpointRun b = make_checkpoint_run(2, {"training.save_precision=bf16"});
  load(b, p16);
  for (const auto& item : a16.model->named_parameters()) {
    const torch::Tensor loaded = b.model->named_parameters()[item.key()];
    EXPECT_EQ(loaded.scalar_type(), torch::kFloat) << "cast back to the model's dtype";
    EXPECT_TRUE(torch::equal(loaded, item.value().to(torch::kBFloat16).to(torch::kFloat))) << item.key();
    // bf16 keeps 8 significant bits: relative error at most 2^-8.
    const double err = ((loaded - item.value()).abs() - item.value().abs() * (1.0 / 256)).max().item<double>();
    EXPECT_LE(err, 0.0) << item.key();
  }
}

TEST(TrainerState, BadStateIsRejectedBeforeWriting) {
  ScratchDir out("badstate");
  CheckpointRun a = make_checkpoint_run(1);
  train::TrainerState st = state_at(1);
  st.data_cursor = "[1, 2]";
  try {
    save(a, out.path(), 1, &st);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("data_cursor"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(train::list_checkpoints(out.path()).empty());
  EXPECT_TRUE(fs::is_empty(out.path()));
}

// The fp16 loss scaler's position and the CUDA RNG state travel through trainer_state.json; a file written
// before those fields existed still loads (with neither), and a malformed loss scale is an Io error naming it.
TEST(TrainerState, LossScaleAndCudaRngRoundTripAndOlderFilesLoad) {
  train::TrainerStateFile file;
  file.state = state_at(3);
  file.state.cpu_rng_state = train::capture_cpu_rng_state();
  file.state.cuda_rng_state = torch::arange(0, 16, torch::kUInt8);
  file.state.loss_scale = train::LossScaleState{4096.0, 17};
  const std::string text = train::trainer_state_to_json(file);
  const train::TrainerStateFile back = train::parse_trainer_state(text, "trainer_state.json");
  ASSERT_TRUE(back.state.loss_scale.has_value());
  EXPECT_EQ(back.state.loss_scale->scale, 4096.0);
  EXPECT_EQ(back.state.loss_scale->good_steps, 17);
  ASSERT_TRUE(back.state.cuda_rng_state.defined());
  EXPECT_TRUE(torch::equal(back.state.cuda_rng_state, file.state.cuda_rng_state));

  auto j = nlohmann::json::parse(text);
  j.erase("loss_scale");
  j["rng"].erase("cuda");
  const train::TrainerStateFile older = train::parse_trainer_state(j.dump(), "old.json");
  EXPECT_FALSE(older.state.loss_scale.has_value());
  EXPECT_FALSE(older.state.cuda_rng_state.defined());

  for (const auto& broken : {nlohmann::json{{"scale", -1.0}, {"good_steps", 0}}, nlohmann::json{{"good_steps", 0}},
                             nlohmann::json("big")}) {
    j["loss_scale"] = broken;
    try {
      train::parse_trainer_state(j.dump(), "bad.json");
      FAIL() << "accepted loss_scale " << broken.dump();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::Io);
      EXPECT_NE(std::string(e.what()).find("loss_scale"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace memtx::test
