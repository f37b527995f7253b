// Training in adapter mode (model/adapter.hpp) on the qwen2-tiny fixture: with a frozen base only the adapter
// parameters change; with freeze_base_model false the base trains too, at training.base_model_lr; and the
// ready configs configs/adapter_qwen2.5_1.5b.yaml and configs/memory_lora_combined.yaml validate and run at tiny
// sizes with the fixture as their base.
#include <fstream>
#include <map>

#include "io/safetensors.hpp"
#include "model/adapter.hpp"
#include "model/lora.hpp"
#include "model/model_weights.hpp"
#include "trainer_support.hpp"

namespace memtx::test {
namespace {

const std::string kTiny = std::string(MEMTX_FIXTURES_DIR) + "/hf/qwen2-tiny";

// trainer_config's run (byte tokenizer, 259 ids < the fixture's 512) on a LoRA adapter of the fixture.
Config lora_adapter_config(const std::string& output_dir, std::vector<std::string> overrides) {
  std::vector<std::string> all = {"model.base_model_name=" + kTiny, "memory.vanilla_mode=false",
                                  "memory.use_memory_adapter=false", "memory.use_lora=true", "memory.lora_rank=4",
                                  "memory.lora_dropout=0", "memory.lora_targets=[q_proj, v_proj, up_proj]",
                                  "training.lora_lr=0.01", "training.max_steps=4", "training.save_steps=100",
                                  "training.eval_steps=100"};
  all.insert(all.end(), overrides.begin(), overrides.end());
  return trainer_config(output_dir, all);
}

std::map<std::string, torch::Tensor> snapshot(const torch::nn::Module& model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : model.named_parameters()) out[p.key()] = p.value().detach().clone();
  return out;
}

bool is_lora(const std::string& name) { return name.find("lora_") != std::string::npos; }

TEST(AdapterTraining, FrozenBaseOnlyTheAdapterParametersChange) {
  if (!std::filesystem::exists(kTiny)) GTEST_SKIP() << "fixtures not found at " << kTiny;
  ScratchDir dir("adapter_frozen");
  const Config config = lora_adapter_config(dir.path(), {});
  Transformer model(config, plugin_registry());
  auto groups = train::build_param_groups(*model, train::param_group_settings(config));
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].name, "lora");
  EXPECT_EQ(groups[0].names.size(), 2u * 3u * 2u);  // 2 layers x 3 targets x (A, B)
  const auto before = snapshot(*model);
  train::TrainReport report;
  train::train(*model, config, *byte_tokenizer(), {}, report);
  EXPECT_EQ(report.status, "completed");
  EXPECT_EQ(report.steps, 4);
  int lora_changed = 0;
  for (const auto& p : model->named_parameters()) {
    const bool same = torch::equal(p.value(), before.at(p.key()));
    if (is_lora(p.key())) lora_changed += !same;
    else EXPECT_TRUE(same) << p.key() << " is frozen";
  }
  EXPECT_EQ(lora_changed, 12) << "every A and B moved";
}

// The final model of a frozen-base run stores the adapter alone; built again from its config.yaml (which loads the
// base from model.base_model_name) and that file, it equals the trained model. A file that repeats a base weight
// is refused by name.
TEST(AdapterTraining, FrozenBaseFilesHoldOnlyTheAdapter) {
  if (!std::filesystem::exists(kTiny)) GTEST_SKIP() << "fixtures not found at " << kTiny;
  ScratchDir dir("adapter_files");
  const Config config = lora_adapter_config(dir.path(), {});
  Transformer model(config, plugin_registry());
  train::TrainReport report;
  train::train(*model, config, *byte_tokenizer(), {}, report);
  ASSERT_EQ(report.status, "completed");
  const std::string final_dir = dir.path() + "/final_model";
  const auto file = io::read_safetensors(final_dir + "/model.safetensors");
  const auto base = base_parameter_names(*model);
  size_t lora = 0;
  for (const auto& [name, t] : file.tensors) {
    EXPECT_EQ(std::count(base.begin(), base.end(), name), 0) << name << " is a frozen base weight";
    lora += is_lora(name);
  }
  EXPECT_EQ(lora, 12u);
  EXPECT_LE(file.tensors.size(), model->named_parameters().size() + model->named_buffers().size() - base.size());

  Transformer again(Config::from_file(plugin_registry().schema(), final_dir + "/config.yaml"), plugin_registry());
  load_model_tensors(*again, file.tensors, "model.safetensors");
  const auto trained = snapshot(*model);
  for (const auto& p : again->named_parameters())
    EXPECT_TRUE(torch::equal(p.value(), trained.at(p.key()))) << p.key();

  NamedTensors with_base = file.tensors;
  with_base.emplace_back(base.front(), model->named_parameters()[base.front()].detach());
  try {
    load_model_tensors(*again, with_base, "full.safetensors");
    ADD_FAILURE() << "a base weight in the file was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'" + base.front() + "' is a frozen weight of the base model"),
              std::string::npos) << e.what();
  }
}

// Adapter files carry the base folder's fingerprint: over the same base they load, over a base whose weights
// changed since they are refused, naming the folder; a merged model no longer depends on the base.
TEST(AdapterTraining, FilesAreRefusedOverAChangedBase) {
  if (!std::filesystem::exists(kTiny)) GTEST_SKIP() << "fixtures not found at " << kTiny;
  ScratchDir dir("adapter_fingerprint");
  const std::string base = dir.path() + "/base";
  std::filesystem::create_directories(base);
  for (const char* f : {"config.json", "model.safetensors"})
    std::filesystem::copy_file(kTiny + "/" + f, base + "/" + f);
  const Config config = lora_adapter_config(dir.path() + "/run", {"model.base_model_name=" + base});
  Transformer model(config, plugin_registry());
  ASSERT_FALSE(model->base_fingerprint().empty());
  train::TrainReport report;
  train::train(*model, config, *byte_tokenizer(), {}, report);
  ASSERT_EQ(report.status, "completed");
  const std::string file = dir.path() + "/run/final_model/model.safetensors";
  const auto saved = io::read_safetensors(file);
  ASSERT_EQ(saved.metadata.at("base_model_fingerprint"), model->base_fingerprint());
  const Config final_config = Config::from_file(plugin_registry().schema(), dir.path() + "/run/final_model/config.yaml");
  {
    Transformer same(final_config, plugin_registry());
    check_model_file_metadata(*same, saved.metadata, file);  // the same base: accepted
  }
  {  // change one byte of the base's last tensor data (the header stays valid)
    std::fstream f(base + "/model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-2, std::ios::end);
    f.put('\x7f');
  }
  Transformer changed(final_config, plugin_registry());
  try {
    check_model_file_metadata(*changed, saved.metadata, file);
    ADD_FAILURE() << "a file trained over other base weights was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Config);
    EXPECT_NE(std::string(e.what()).find("saved over other base weights"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(base), std::string::npos) << e.what();
  }
  EXPECT_GT(merge_lora(*changed), 0);
  EXPECT_TRUE(changed->base_fingerprint().empty());
  EXPECT_TRUE(model_file_metadata(*changed).empty());
}

TEST(AdapterTraining, UnfrozenBaseTrainsAtItsOwnLearningRate) {
  if (!std::filesystem::exists(kTiny)) GTEST_SKIP() << "fixtures not found at " << kTiny;
  for (const double base_lr : {0.0, 0.001}) {
    ScratchDir dir("adapter_unfrozen_" + std::to_string(base_lr > 0));
    const Config config = lora_adapter_config(
        dir.path(), {"model.freeze_base_model=false", "training.base_model_lr=" + std::to_string(base_lr)});
    Transformer model(config, plugin_registry());
    auto groups = train::build_param_groups(*model, train::param_group_settings(config));
    std::map<std::string, double> lr;
    for (const auto& g : groups) lr[g.name] = g.lr;
    EXPECT_EQ(lr.at("lora"), 0.01);
    EXPECT_EQ(lr.at("base"), base_lr);
    EXPECT_EQ(lr.at("no_decay"), base_lr);
    const auto before = snapshot(*model);
    train::TrainReport report;
    train::train(*model, config, *byte_tokenizer(), {}, report);
    EXPECT_EQ(report.status, "completed");
    int base_changed = 0, base_total = 0, lora_changed = 0;
    for (const auto& p : model->named_parameters()) {
      const bool same = torch::equal(p.value(), before.at(p.key()));
      if (is_lora(p.key())) {
        lora_changed += !same;
      } else {
        ++base_total;
        base_changed += !same;
      }
    }
    EXPECT_EQ(lora_changed, 12) << "base_model_lr " << base_lr;
    if (base_lr == 0.0) EXPECT_EQ(base_changed, 0) << "trainable, but its learning rate is 0";
    else EXPECT_EQ(base_changed, base_total) << "every base tensor trains at base_model_lr";
  }
}

// A ready config at tiny size: the fixture as base, the memory layers inside its 2 layers, a built-in dataset.
void run_ready_config(const std::string& file, const std::vector<std::string>& fit) {
  if (!std::filesystem::exists(kTiny)) GTEST_SKIP() << "fixtures not found at " << kTiny;
  Config config = Config::from_file(plugin_registry().schema(), std::string(MEMTX_SOURCE_DIR) + "/configs/" + file);
  config.validate();  // as written
  EXPECT_TRUE(config.get_opt_string("model.base_model_name").has_value());
  if (!plugin_registry().find("memory")) GTEST_SKIP() << "the memory variant is not built";
  ScratchDir dir("ready_config");
  std::vector<std::string> overrides = {"model.base_model_name=" + kTiny,
                                        "model.device=cpu",
                                        "training.dataset_name=synthetic:associative_recall?pairs=2&examples=24",
                                        "training.max_length=32",
                                        "training.batch_size=2",
                                        "training.gradient_accumulation_steps=1",
                                        "training.max_steps=2",
                                        "training.warmup_steps=0",
                                        "training.eval_fraction=0.25",
                                        "training.eval_steps=2",
                                        "training.save_steps=2",
                                        "training.num_gpus=0",
                                        "training.output_dir=" + dir.path()};
  overrides.insert(overrides.end(), fit.begin(), fit.end());
  for (const auto& kv : overrides) config.apply_override(kv);
  config.validate();
  Transformer model(config, plugin_registry());
  const auto base = base_parameter_names(*model);
  const auto before = snapshot(*model);
  train::TrainReport report;
  train::train(*model, config, *byte_tokenizer(), {}, report);
  EXPECT_EQ(report.status, "completed") << report.error;
  EXPECT_EQ(report.steps, 2);
  EXPECT_TRUE(std::filesystem::exists(report.final_model)) << report.final_model;
  int added_changed = 0;
  for (const auto& p : model->named_parameters()) {
    const bool same = torch::equal(p.value(), before.at(p.key()));
    if (std::find(base.begin(), base.end(), p.key()) != base.end()) EXPECT_TRUE(same) << p.key() << " is frozen";
    else added_changed += !same;
  }
  EXPECT_GT(added_changed, 0);
  std::cout << "[ready config] " << file << ": loss " << report.final_loss << ", " << added_changed << " of "
            << model->named_parameters().size() - base.size() << " added tensors changed\n";
}

TEST(AdapterTraining, ReadyAdapterConfigRunsAtTinySize) {
  run_ready_config("adapter_qwen2.5_1.5b.yaml", {"memory.memory_layer_indices=[0, 1]", "memory.memory_rank=4",
                                                 "memory.num_memory_tokens=16"});
}

TEST(AdapterTraining, ReadyMemoryLoraCombinedConfigRunsAtTinySize) {
  run_ready_config("memory_lora_combined.yaml", {"memory.memory_layer_k=1", "memory.num_memory_tokens=16",
                                                 "memory.lora_rank=4"});
}

}  // namespace
}  // namespace memtx::test
