// The kill harness: a memtx-cli training run that saves a checkpoint every step is killed with SIGKILL over and
// over at random (seeded) points, most of them aimed inside a save, and resumed with --resume latest each time.
// After every kill the newest checkpoint must be complete and load (manifest digests, weights into a model,
// the optimizer file parsed), the `latest` pointer must name a complete checkpoint, and no checkpoint may go
// back in steps; at the end the metrics file must hold every step once, with the losses, learning rates and
// gradient norms of an uninterrupted run bit for bit, and the final weights and optimizer state must be the
// same bytes. Where each kill landed is read from what it left in the folder (a checkpoint-N.tmp-<pid> folder:
// inside a save) and printed.
//   MEMTX_CRASH_KILLS (default 60) and MEMTX_CRASH_SEED (default 15) change the number of kills and the seed.
#include <gtest/gtest.h>

#include <random>

#include "crash_support.hpp"
#include "io/safetensors.hpp"
#include "model/test_support.hpp"
#include "train/checkpoint.hpp"
#include "train/checkpoint_dir.hpp"

namespace memtx::crash {
namespace {

using Clock = std::chrono::steady_clock;

int64_t env_int(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::stoll(v) : fallback;
}

// The step of the newest "type": "train" record of a metrics file (0 when none). Reads the file whole: it
// is small, and a resumed run replaces it.
int64_t newest_logged_step(const std::string& metrics_path) {
  const std::string text = read_all(metrics_path);
  const std::string key = "\"step\":";
  int64_t newest = 0;
  size_t line_start = 0;
  while (line_start < text.size()) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) break;  // a line still being written
    const std::string line = text.substr(line_start, line_end - line_start);
    line_start = line_end + 1;
    if (line.find("\"type\":\"train\"") == std::string::npos) continue;
    const size_t at = line.find(key);
    if (at != std::string::npos) newest = std::max<int64_t>(newest, std::atoll(line.c_str() + at + key.size()));
  }
  return newest;
}

ino_t inode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// What a process killed while holding pid left in out, as the place the kill landed.
std::string where_killed(const std::string& out, pid_t pid) {
  const std::string tag = "-" + std::to_string(pid);
  for (const std::string& name : names_in(out)) {
    if (name.size() < tag.size() || name.compare(name.size() - tag.size(), tag.size(), tag) != 0) continue;
    if (name.rfind("checkpoint-", 0) == 0 && name.find(".tmp-") != std::string::npos) return "save: writing checkpoint-N.tmp";
    if (name.rfind("checkpoint-", 0) == 0 && name.find(".old-") != std::string::npos) return "save: replacing a folder";
    if (name.rfind("latest.tmp-", 0) == 0) return "save: writing the latest pointer";
    if (name.rfind("final_model.", 0) == 0) return "writing final_model";
    if (name.rfind("metrics.jsonl.tmp-", 0) == 0) return "start: rewriting metrics.jsonl";
    if (name.rfind("write-probe.tmp-", 0) == 0) return "start: output folder probe";
  }
  const auto newest = train::find_latest_checkpoint(out);
  const auto pointer = train::read_latest_pointer(out);
  if (newest && (!pointer || fs::path(*newest).filename().string() != *pointer))
    return "save: between the rename and the pointer update";
  for (const auto& e : train::list_checkpoints(out))
    if (!train::is_complete_checkpoint(e.path)) return "save: rotating out an old checkpoint";
  return "outside a save (start-up, a step, metrics)";
}

// Every check of "the latest checkpoint is complete and loadable"; returns its step (0: none yet).
int64_t check_latest(const std::string& out, int64_t previous_step, const std::string& context) {
  const bool pointer_file = fs::exists(fs::path(out) / train::kLatestFile);
  const auto pointer = train::read_latest_pointer(out);
  if (pointer_file) {
    EXPECT_TRUE(pointer.has_value()) << context << ": the latest pointer is torn: '"
                                     << read_all(out + "/" + train::kLatestFile) << "'";
    if (pointer) EXPECT_TRUE(train::is_complete_checkpoint(out + "/" + *pointer)) << context << ": latest -> " << *pointer;
  }
  const auto newest = train::find_latest_checkpoint(out);
  if (!newest) {
    EXPECT_EQ(previous_step, 0) << context << ": checkpoint-" << previous_step << " was lost";
    return 0;
  }
  const int64_t step = *train::checkpoint_step(fs::path(*newest).filename().string());
  EXPECT_GE(step, previous_step) << context << ": the newest checkpoint went back";
  try {
    train::verify_checkpoint_files(*newest, /*with_optimizer=*/true);
    Config base(test::plugin_registry().schema());
    const Config saved = Config::from_file(base.schema_ptr(), *newest + "/config.yaml");
    Transformer model(saved, test::plugin_registry());
    train::CheckpointLoadOptions options;
    options.restore_rng = false;
    train::load_checkpoint(*newest, saved, *model, nullptr, {}, options);
    io::read_safetensors(*newest + "/" + train::kOptimizerFile);
  } catch (const std::exception& e) {
    ADD_FAILURE() << context << ": " << *newest << " does not load: " << e.what();
  }
  return step;
}

TEST(CheckpointCrash, KillNineDuringSavesThenResumeReproducesTheUninterruptedRun) {
  const int64_t kills_wanted = env_int("MEMTX_CRASH_KILLS", 60);
  const uint64_t seed = static_cast<uint64_t>(env_int("MEMTX_CRASH_SEED", 15));
  // A kill lets a run go at most about 3 steps past its checkpoint: the steps last after the kills.
  const int64_t max_steps = std::max<int64_t>(40, kills_wanted * 4 + 20);
  memtx_test::TempDir dir("kill");
  const std::string ref = dir.path("reference"), out = dir.path("killed");
  auto args_for = [&](const std::string& output_dir, bool resume) {
    auto args = tiny_train_args(output_dir, max_steps, /*save_steps=*/1);
    for (const char* a : {"--save_total_limit", "2"}) args.push_back(a);
    if (resume)
      for (const char* a : {"--resume", "latest"}) args.push_back(a);
    return args;
  };

  // The uninterrupted run, and how long one step with its save takes (the window the kills aim at).
  const auto t0 = Clock::now();
  std::string text;
  ASSERT_EQ(run_to_end(args_for(ref, false), dir.path("reference.log"), &text), 0) << text;
  const double step_seconds = std::chrono::duration<double>(Clock::now() - t0).count() / static_cast<double>(max_steps);

  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::map<std::string, int> landed;
  int64_t kills = 0, fresh_starts = 0, resumes = 0, latest_step = 0;
  const auto started = Clock::now();
  for (int attempt = 0;; ++attempt) {
    const bool resume = train::find_latest_checkpoint(out).has_value();
    (resume ? resumes : fresh_starts) += 1;
    const std::string metrics = out + "/metrics.jsonl";
    const ino_t old_inode = inode_of(metrics);
    const std::string log = dir.path("run-" + std::to_string(attempt) + ".log");
    const pid_t pid = spawn(args_for(out, resume), log);
    ASSERT_GT(pid, 0);
    if (kills >= kills_wanted) {  // the last run goes to the end
      const int status = wait_status(pid);
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_all(log);
      break;
    }
    // A fifth of the kills at any moment of the first 0.6 s (start-up, resume, the first steps); the rest
    // just after the metrics record of a chosen step, within 0.8 of a step's time: inside that step's save,
    // which takes most of a step here.
    const auto spawned = Clock::now();
    const bool anywhere = unit(rng) < 0.2;
    const double delay = anywhere ? 0.6 * unit(rng) : 0.8 * step_seconds * unit(rng);
    const int64_t target = std::min<int64_t>(latest_step + 1 + static_cast<int64_t>(3 * unit(rng)), max_steps - 1);
    bool exited = false, armed = anywhere;
    Clock::time_point fire = spawned + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(delay));
    while (true) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "attempt " << attempt << ": " << read_all(log);
        break;
      }
      const auto now = Clock::now();
      const int64_t logged = inode_of(metrics) != old_inode ? newest_logged_step(metrics) : 0;  // this run's
      if (!armed && logged >= target) {
        armed = true;
        fire = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(delay));
      }
      if (armed && now >= fire) break;
      if (anywhere && logged >= latest_step + 3) break;  // on a fast disk, a timed kill must not let a run go far
      ASSERT_LT(now - spawned, std::chrono::seconds(60)) << "attempt " << attempt << " never reached step " << target;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (exited) {
      ADD_FAILURE() << "the run finished on its own after " << kills << " kills (max_steps " << max_steps << ")";
      break;
    }
    ::kill(pid, SIGKILL);
    const int status = wait_status(pid);
    if (!WIFSIGNALED(status)) {  // finished between the last poll and the kill
      ADD_FAILURE() << "the run finished on its own after " << kills << " kills";
      break;
    }
    ++kills;
    landed[where_killed(out, pid)] += 1;
    latest_step = check_latest(out, latest_step, "kill " + std::to_string(kills) + " (attempt " + std::to_string(attempt) + ")");
    if (HasFailure()) break;
  }
  const double kill_seconds = std::chrono::duration<double>(Clock::now() - started).count();

  // The run as a whole is the uninterrupted one: every step once, the same numbers, the same final bytes.
  int torn = 0;
  const auto want = train_records(ref + "/metrics.jsonl");
  const auto got = train_records(out + "/metrics.jsonl", &torn);
  EXPECT_EQ(torn, 0) << "the final metrics file holds a torn line";
  ASSERT_EQ(want.size(), static_cast<size_t>(max_steps));
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [step, record] : want)
    for (const char* key : {"loss", "lr", "grad_norm", "epoch", "tokens"})
      EXPECT_EQ(got.at(step)[key], record[key]) << "step " << step << " " << key;
  const std::string last = train::checkpoint_name(max_steps);
  for (const std::string& file : std::vector<std::string>{"final_model/model.safetensors", last + "/model.safetensors",
                                                         last + "/optimizer.safetensors"})
    EXPECT_TRUE(read_all(ref + "/" + file) == read_all(out + "/" + file)) << file << " differs from the uninterrupted run's";

  int in_saves = 0;
  std::ostringstream report;
  for (const auto& [where, n] : landed) {
    report << "  " << n << " x " << where << "\n";
    if (where.rfind("save:", 0) == 0) in_saves += n;
  }
  std::cout << "kill harness (seed " << seed << "): " << kills << " kills in " << kill_seconds << " s, " << in_saves
            << " inside a save; " << resumes << " resumes, " << fresh_starts << " fresh starts; " << max_steps
            << " steps at " << step_seconds * 1000 << " ms each uninterrupted\n"
            << report.str();
  RecordProperty("kills", static_cast<int>(kills));
  RecordProperty("kills_in_saves", in_saves);
  EXPECT_GE(kills, kills_wanted);
  EXPECT_GE(in_saves, kills_wanted / 3) << "too few kills landed inside a save:\n" << report.str();
}

}  // namespace
}  // namespace memtx::crash
