// Crash safety of a training run's files, in process: a full disk during a save (RLIMIT_FSIZE with SIGXFSZ
// ignored, so writes fail with EFBIG as they fail with ENOSPC on a full disk) gives a message naming the file and
// the reason, and leaves the previous checkpoint as the latest, loadable and resumable to the same losses; a
// failing metrics write says why; an output folder that cannot be written is refused before training; a folder
// moved aside by a killed swap comes back. tests/crash/ kills real memtx-cli processes.
#include <signal.h>
#include <sys/resource.h>

#include <filesystem>

#include "train/checkpoint.hpp"
#include "train/checkpoint_dir.hpp"
#include "train/output_dir.hpp"
#include "trainer_support.hpp"

namespace memtx::test {
namespace {

namespace fs = std::filesystem;

// Sets the file size limit (bytes) of this process for its lifetime, with SIGXFSZ ignored: a write past the
// limit then fails with EFBIG instead of killing the process. Restores both.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    previous_ = ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    ::signal(SIGXFSZ, previous_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit saved_{};
  void (*previous_)(int) = nullptr;
};

std::vector<std::string> entries_of(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

bool has_temporaries(const std::string& dir) {
  for (const auto& name : entries_of(dir))
    if (name.find(".tmp-") != std::string::npos || name.find(".old-") != std::string::npos) return true;
  return false;
}

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Io) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

// No evaluation: the checkpoint files and the metrics are the only writes.
const std::vector<std::string> kRun = {"training.eval_split=null", "training.save_steps=2"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(CheckpointDiskFull, FailedSaveNamesTheFileAndKeepsThePreviousCheckpoint) {
  ScratchDir dir("diskfull");
  const auto straight = run_training(trainer_config(dir / "straight", with(kRun, {"training.max_steps=4"})));
  ASSERT_EQ(straight.status, "completed");

  const std::string out = dir / "run";
  ASSERT_EQ(run_training(trainer_config(out, with(kRun, {"training.max_steps=2"}))).status, "completed");
  const auto model_bytes = fs::file_size(out + "/checkpoint-2/model.safetensors");
  const auto optimizer_bytes = fs::file_size(out + "/checkpoint-2/optimizer.safetensors");
  ASSERT_LT(model_bytes + 4096, optimizer_bytes);
  const auto before = entries_of(out);

  // The model file fits, the optimizer file does not: the save of checkpoint-4 fails half way.
  const auto resumed = trainer_config(out, with(kRun, {"training.max_steps=4", "training.resume_from_checkpoint=latest"}));
  std::string message;
  {
    FileSizeLimit limit(model_bytes + 4096);
    message = error_of([&] { run_training(resumed); });
  }
  EXPECT_NE(message.find("optimizer.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("File too large"), std::string::npos) << message;
  EXPECT_NE(message.find("checkpoint-4 was not saved (the latest complete checkpoint is still checkpoint-2)"),
            std::string::npos)
      << message;

  // Nothing half-written is left, the pointer still names checkpoint-2, and it loads.
  EXPECT_FALSE(has_temporaries(out)) << testing::PrintToString(entries_of(out));
  EXPECT_FALSE(fs::exists(out + "/checkpoint-4"));
  EXPECT_EQ(train::read_latest_pointer(out), std::optional<std::string>("checkpoint-2"));
  EXPECT_EQ(train::find_latest_checkpoint(out), std::optional<std::string>(out + "/checkpoint-2"));
  EXPECT_NO_THROW(train::verify_checkpoint_files(out + "/checkpoint-2", true));
  EXPECT_EQ(before, entries_of(out));

  // With room again, the resumed run ends where the uninterrupted one did.
  const auto again = run_training(resumed);
  ASSERT_EQ(again.status, "completed");
  const auto want = train_losses(straight.metrics_file);
  const auto got = train_losses(again.metrics_file);
  ASSERT_EQ(got.size(), 4u);
  for (const auto& [step, loss] : want) EXPECT_EQ(got.at(step), loss) << "step " << step;
}

TEST(CheckpointDiskFull, FailedMetricsWriteNamesTheFileAndTheReason) {
  ScratchDir dir("metricsfull");
  const auto config = trainer_config(dir.path(), {"training.eval_split=null", "training.save_steps=1000",
                                                  "training.max_steps=40"});
  std::string message;
  {
    FileSizeLimit limit(2000);  // a few metrics records; no checkpoint is due before it is full
    message = error_of([&] { run_training(config); });
  }
  EXPECT_NE(message.find("metrics.jsonl"), std::string::npos) << message;
  EXPECT_NE(message.find("File too large"), std::string::npos) << message;
}

TEST(OutputDir, APathThroughARegularFileIsRefusedBeforeTraining) {
  ScratchDir dir("notdir");
  dir.write("file", "x");
  bool logged = false;
  train::TrainHooks hooks;
  hooks.log = [&](const std::string&) { logged = true; };
  hooks.on_progress = [&](const train::TrainProgress&) {
    logged = true;
    return false;
  };
  const std::string out = dir / "file/run";
  const std::string message = error_of([&] { run_training(trainer_config(out), hooks); });
  EXPECT_NE(message.find("training.output_dir '" + out + "' cannot be created"), std::string::npos) << message;
  EXPECT_NE(message.find("Not a directory"), std::string::npos) << message;
  EXPECT_FALSE(logged) << "refused before the run said or did anything";

  const std::string file = dir / "file";
  const std::string not_folder = error_of([&] { train::check_output_dir_writable(file); });
  EXPECT_NE(not_folder.find("training.output_dir '" + file + "' "), std::string::npos) << not_folder;
}

TEST(OutputDir, AFolderThatRefusesFilesIsRefusedEvenForRoot) {
  // sysfs refuses new files to every user, root included: the probe must really try to create one.
  const std::string sys = "/sys/fs";
  std::error_code ec;
  if (!fs::is_directory(sys, ec)) GTEST_SKIP() << sys << " is not here";
  const std::string message = error_of([&] { train::check_output_dir_writable(sys); });
  EXPECT_NE(message.find("training.output_dir '/sys/fs' is not writable (cannot create a file in it)"),
            std::string::npos)
      << message;
}

TEST(OutputDir, TheProbeCreatesTheFolderAndLeavesNothingInIt) {
  ScratchDir dir("probe");
  const std::string out = dir / "a/b";
  train::check_output_dir_writable(out);
  ASSERT_TRUE(fs::is_directory(out));
  EXPECT_TRUE(entries_of(out).empty());
  const std::string message = [&] {
    try {
      train::check_output_dir_writable("");
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::Config);
      return std::string(e.what());
    }
    return std::string();
  }();
  EXPECT_NE(message.find("training.output_dir is empty"), std::string::npos) << message;
}

TEST(CheckpointDir, AFolderMovedAsideByAKilledSwapComesBack) {
  ScratchDir dir("swap");
  ASSERT_EQ(run_training(trainer_config(dir.path(), with(kRun, {"training.max_steps=2"}))).status, "completed");
  // Killed between the two renames of a replacement: the only copy of checkpoint-2 and of final_model is
  // the ".old" folder; the new ones were still temporaries. A killed probe left its file.
  const std::string dead = "2147483646";
  fs::rename(dir / "checkpoint-2", dir / ("checkpoint-2.old-" + dead));
  fs::rename(dir / "final_model", dir / ("final_model.old-" + dead));
  fs::create_directories(dir / ("checkpoint-2.tmp-" + dead));
  fs::create_directories(dir / ("final_model.tmp-" + dead));
  dir.write(std::string(train::kWriteProbePrefix) + dead, "\n");
  train::remove_stale_temporaries(dir.path());
  EXPECT_EQ(entries_of(dir.path()),
            (std::vector<std::string>{"checkpoint-2", "final_model", "latest", "metrics.jsonl"}));
  EXPECT_NO_THROW(train::verify_checkpoint_files(dir / "checkpoint-2", true));
}

}  // namespace
}  // namespace memtx::test
