// Checkpoint integrity: manifest.json covers trainer_state.json too, so one flipped bit in "step",
// "scheduler.step" or the data cursor is refused instead of resuming at another step; trainer_state.json's step
// must be the folder's number (also in older checkpoints without a manifest); "resume latest" falls back past a
// damaged newest checkpoint, saying which and why; a crashed pointer write ("latest.tmp-<pid>") is removed.
#include <fstream>

#include "model/folder_manifest.hpp"
#include "train/checkpoint.hpp"
#include "train/checkpoint_dir.hpp"
#include "train/optimizer.hpp"
#include "trainer_support.hpp"

namespace memtx::test {
namespace {

namespace fs = std::filesystem;

struct Saver {
  Transformer model;
  std::vector<train::ParamGroup> groups;
  std::unique_ptr<torch::optim::Optimizer> opt;
};

Saver make_run(int64_t seed) {
  Saver r{tiny_model({"model.seed=" + std::to_string(seed)}), {}, nullptr};
  r.groups = train::build_param_groups(*r.model, train::param_group_settings(r.model->config()));
  r.opt = train::make_optimizer(r.groups, train::optimizer_settings(r.model->config()));
  return r;
}

std::string save_at(Saver& r, const std::string& out, int64_t step) {
  train::TrainerState s;
  s.step = step;
  s.scheduler_step = step;
  s.data_cursor = R"({"epoch": 0, "index": 12})";
  return train::save_checkpoint(out, r.model->config(), *r.model, *r.opt, r.groups, s);
}

// The message of the error loading dir throws; "" when it loads.
std::string load_error(const std::string& dir, StatusCode expected = StatusCode::Io) {
  Saver r = make_run(7);
  try {
    train::load_checkpoint(dir, r.model->config(), *r.model, r.opt.get(), r.groups);
  } catch (const Error& e) {
    EXPECT_EQ(static_cast<int>(e.code()), static_cast<int>(expected)) << e.what();
    return e.what();
  }
  return "";
}

// Flips the lowest bit of the last digit of the number right after `anchor`: "30" -> "31".
void flip_digit(const std::string& path, const std::string& anchor) {
  std::string text = io::read_text_file(path);
  const size_t at = text.find(anchor);
  ASSERT_NE(at, std::string::npos) << anchor;
  const size_t end = text.find_first_not_of("0123456789", at + anchor.size());
  ASSERT_GT(end, at + anchor.size()) << "no number after " << anchor;
  text[end - 1] = static_cast<char>(text[end - 1] ^ 1);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::string copy_of(const std::string& from, const std::string& to) {
  fs::remove_all(to);
  fs::create_directories(fs::path(to).parent_path());
  fs::copy(from, to, fs::copy_options::recursive);
  return to;
}

TEST(CheckpointIntegrity, AFlippedBitInTheTrainerStateIsRefused) {
  ScratchDir out("flip");
  Saver a = make_run(1);
  const std::string ckpt = save_at(a, out.path(), 30);
  ASSERT_TRUE(fs::exists(fs::path(ckpt) / kManifestFile));
  EXPECT_EQ(load_error(ckpt), "");
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"step", "\n  \"step\": "}, {"scheduler", "\"scheduler\": {\n    \"step\": "}, {"cursor", "\"index\": "}};
  for (const auto& [name, anchor] : fields) {
    SCOPED_TRACE(name);
    const std::string d = copy_of(ckpt, out / ("copies/" + name + "/checkpoint-30"));
    flip_digit((fs::path(d) / "trainer_state.json").string(), anchor);
    const std::string message = load_error(d);
    EXPECT_NE(message.find("trainer_state.json"), std::string::npos) << message;
    EXPECT_NE(message.find("manifest.json"), std::string::npos) << message;
  }
}

TEST(CheckpointIntegrity, StepMustBeTheFolderNumberAlsoWithoutAManifest) {
  ScratchDir out("step");
  Saver a = make_run(1);
  const std::string ckpt = save_at(a, out.path(), 30);
  // An older checkpoint (no manifest): it loads, but a flipped step is caught by the folder's name.
  const std::string older = copy_of(ckpt, out / "older/checkpoint-30");
  fs::remove(fs::path(older) / kManifestFile);
  EXPECT_EQ(load_error(older), "");
  flip_digit((fs::path(older) / "trainer_state.json").string(), "\n  \"step\": ");
  std::string message = load_error(older);
  EXPECT_NE(message.find("step 31 but the folder is checkpoint-30"), std::string::npos) << message;

  // A whole checkpoint copied under another step's name is refused; under a name that is no step it loads.
  message = load_error(copy_of(ckpt, out / "checkpoint-40"));
  EXPECT_NE(message.find("step 30 but the folder is checkpoint-40"), std::string::npos) << message;
  EXPECT_EQ(load_error(copy_of(ckpt, out / "best-so-far")), "");
  EXPECT_EQ(load_error(ckpt + "/"), "");  // a trailing slash names the same folder
}

TEST(CheckpointIntegrity, StaleLatestTemporaryIsRemovedAtSaveAndAtStart) {
  ScratchDir out("stale");
  fs::create_directories(out.path());
  const std::string dead = out / "latest.tmp-2147483646";  // no such process
  const std::string alive = out / ("latest.tmp-" + std::to_string(::getppid()));  // a running process
  std::ofstream(dead) << "checkpoint-1";
  std::ofstream(alive) << "checkpoint-1";
  Saver a = make_run(1);
  save_at(a, out.path(), 1);
  EXPECT_FALSE(fs::exists(dead)) << "a save removes the pointer temporary of a dead process";
  EXPECT_TRUE(fs::exists(alive)) << "a running process's temporary is left alone";
  fs::remove(alive);

  // Training start removes it too, before anything else can fail (here: a resume folder that does not exist).
  std::ofstream(dead) << "checkpoint-1";
  const Config config = trainer_config(out.path(), {"training.resume_from_checkpoint=" + (out / "nothing")});
  EXPECT_THROW(run_training(config), Error);
  EXPECT_FALSE(fs::exists(dead)) << "training start removes the pointer temporary of a dead process";
}

TEST(ResumeLatest, FallsBackPastADamagedNewestCheckpointSayingWhy) {
  ScratchDir dir("fallback");
  const std::vector<std::string> common = {"training.max_steps=8", "training.save_steps=4", "training.eval_split=null"};
  ASSERT_EQ(run_training(trainer_config(dir.path(), common)).status, "completed");
  ASSERT_TRUE(fs::exists(dir / "checkpoint-4") && fs::exists(dir / "checkpoint-8"));
  {  // one flipped byte in the newest checkpoint's weights
    const std::string path = dir / "checkpoint-8/model.safetensors";
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-5, std::ios::end);
    char c = 0;
    f.read(&c, 1);
    f.seekp(-5, std::ios::end);
    f.put(static_cast<char>(c ^ 0x01));
  }
  std::vector<std::string> lines;
  train::TrainHooks hooks;
  hooks.log = [&lines](const std::string& line) { lines.push_back(line); };
  auto resumed = common;
  resumed[0] = "training.max_steps=10";
  resumed.push_back("training.resume_from_checkpoint=latest");
  const auto report = run_training(trainer_config(dir.path(), resumed), hooks);
  EXPECT_EQ(report.status, "completed");
  EXPECT_EQ(report.steps, 10);
  auto has = [](const std::string& line, const std::vector<std::string>& parts) {
    for (const auto& p : parts)
      if (line.find(p) == std::string::npos) return false;
    return true;
  };
  bool skipped = false, resumed_at_4 = false;
  for (const auto& l : lines) {
    skipped = skipped || has(l, {"skipped checkpoint", "checkpoint-8", "model.safetensors"});
    resumed_at_4 = resumed_at_4 || has(l, {"resumed from", "checkpoint-4 at step 4"});
  }
  EXPECT_TRUE(skipped && resumed_at_4) << ::testing::PrintToString(lines);

  // Nothing that loads: NotFound naming every checkpoint skipped and why.
  for (const auto& c : train::list_checkpoints(dir.path()))
    fs::resize_file(fs::path(c.path) / "model.safetensors", 100);
  try {
    run_training(trainer_config(dir.path(), resumed));
    ADD_FAILURE() << "resumed from a damaged checkpoint";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::NotFound) << e.what();
    const std::string m = e.what();
    EXPECT_NE(m.find("checkpoint-10 skipped"), std::string::npos) << m;
    EXPECT_NE(m.find("checkpoint-4 skipped"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace memtx::test
