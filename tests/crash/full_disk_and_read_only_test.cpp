// memtx-cli train on a full disk and on an output folder it cannot write:
//   - a save that runs out of room (RLIMIT_FSIZE with SIGXFSZ ignored: EFBIG; and, where this process may mount,
//     a small tmpfs in a private mount namespace: ENOSPC) exits 1 with a message naming the file, the reason and
//     the checkpoint still standing; the previous checkpoint stays the latest, loads, and a resume with room
//     again reproduces the uninterrupted run;
//   - an output folder that is a path through a regular file, a sysfs folder (no new files, even for root) or a
//     read-only mount is refused with [IO] and the reason before the model is built or loaded.
// The mount cases skip where mounting is not allowed (no CAP_SYS_ADMIN, no unshare).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include "crash_support.hpp"
#include "train/checkpoint.hpp"
#include "train/checkpoint_dir.hpp"

namespace memtx::crash {
namespace {

constexpr int kSkip = 77;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<std::string> resumed(std::vector<std::string> args) {
  args.push_back("--resume");
  args.push_back("latest");
  return args;
}

// Runs a bash script in a private mount namespace (unshare -m), so that the tmpfs it mounts is seen by it and
// its children alone. Returns its exit code; kSkip when namespaces or mounts are not allowed here.
int run_with_private_mounts(const std::string& script, const std::string& log, std::string* output) {
  if (!fs::exists("/usr/bin/unshare") || !fs::exists("/bin/bash")) return kSkip;
  return run_to_end({"/usr/bin/unshare", "-m", "/bin/bash", "-c", "mount --make-rprivate / 2>/dev/null || exit 77\n" + script},
                    log, output);
}

std::string quoted(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) out += " '" + a + "'";
  return out;
}

void expect_losses_of(const std::string& straight_metrics, const std::string& metrics, size_t steps) {
  const auto want = train_records(straight_metrics);
  const auto got = train_records(metrics);
  ASSERT_EQ(got.size(), steps);
  for (const auto& [step, record] : want) EXPECT_EQ(got.at(step)["loss"], record["loss"]) << "step " << step;
}

TEST(CheckpointDiskFullCli, FileSizeLimitDuringASaveFailsClearlyAndKeepsThePreviousCheckpoint) {
  memtx_test::TempDir dir("efbig");
  const std::string out = dir.path("run"), straight = dir.path("straight");
  std::string text;
  ASSERT_EQ(run_to_end(tiny_train_args(straight, 4, 2), dir.path("straight.log"), &text), 0) << text;
  ASSERT_EQ(run_to_end(tiny_train_args(out, 2, 2), dir.path("first.log"), &text), 0) << text;
  const auto model_bytes = fs::file_size(out + "/checkpoint-2/model.safetensors");
  ASSERT_LT(model_bytes + 4096, fs::file_size(out + "/checkpoint-2/optimizer.safetensors"));

  // The model file of checkpoint-4 fits under the limit, its optimizer file does not.
  const rlim_t limit_bytes = model_bytes + 4096;
  const int code = run_to_end(resumed(tiny_train_args(out, 4, 2)), dir.path("full.log"), &text, [limit_bytes] {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{};
    ::getrlimit(RLIMIT_FSIZE, &limit);
    limit.rlim_cur = limit_bytes;
    ::setrlimit(RLIMIT_FSIZE, &limit);
  });
  EXPECT_EQ(code, 1) << text;
  EXPECT_TRUE(contains(text, "memtx-cli train: [IO] checkpoint-4 was not saved (the latest complete checkpoint is "
                             "still checkpoint-2): "))
      << text;
  EXPECT_TRUE(contains(text, "optimizer.safetensors") && contains(text, "File too large")) << text;
  EXPECT_EQ(train::read_latest_pointer(out), std::optional<std::string>("checkpoint-2"));
  EXPECT_EQ(names_in(out), (std::vector<std::string>{"checkpoint-2", "final_model", "latest", "metrics.jsonl"}));
  EXPECT_NO_THROW(train::verify_checkpoint_files(out + "/checkpoint-2", true));

  ASSERT_EQ(run_to_end(resumed(tiny_train_args(out, 4, 2)), dir.path("again.log"), &text), 0) << text;
  EXPECT_TRUE(contains(text, "completed after 4 steps")) << text;
  expect_losses_of(straight + "/metrics.jsonl", out + "/metrics.jsonl", 4);
}

TEST(CheckpointDiskFullCli, FullTmpfsDuringASaveFailsClearlyAndKeepsThePreviousCheckpoint) {
  memtx_test::TempDir dir("enospc");
  const std::string mnt = dir.path("mnt"), copy = dir.path("copy"), straight = dir.path("straight");
  fs::create_directories(mnt);
  std::string text;
  ASSERT_EQ(run_to_end(tiny_train_args(straight, 6, 2), dir.path("straight.log"), &text), 0) << text;
  // 600 KiB: checkpoint-2 (about 330 KB) and final_model (about 110 KB) fit, checkpoint-4 does not.
  const std::string script =
      "mount -t tmpfs -o size=600k tmpfs '" + mnt + "' 2>/dev/null || exit 77\n" +
      "OMP_NUM_THREADS=1" + quoted(tiny_train_args(mnt + "/run", 2, 2)) + " || exit 3\n" +
      "OMP_NUM_THREADS=1" + quoted(resumed(tiny_train_args(mnt + "/run", 6, 2))) + "\n" +
      "echo \"exit code $?\"\ncp -a '" + mnt + "/run' '" + copy + "' || exit 4\numount '" + mnt + "'\n";
  const int code = run_with_private_mounts(script, dir.path("full.log"), &text);
  if (code == kSkip) GTEST_SKIP() << "no tmpfs mount in a private namespace here: " << text;
  ASSERT_EQ(code, 0) << text;
  EXPECT_TRUE(contains(text, "exit code 1")) << text;
  EXPECT_TRUE(contains(text, "was not saved (the latest complete checkpoint is still checkpoint-")) << text;
  EXPECT_TRUE(contains(text, "No space left on device")) << text;

  // The folder, copied off the full disk: no temporaries, the pointer names a complete checkpoint that loads,
  // and the run resumes from it to the uninterrupted losses.
  for (const auto& name : names_in(copy)) EXPECT_FALSE(contains(name, ".tmp-")) << name;
  const auto pointer = train::read_latest_pointer(copy);
  ASSERT_TRUE(pointer.has_value());
  EXPECT_NO_THROW(train::verify_checkpoint_files(copy + "/" + *pointer, true));
  EXPECT_EQ(train::find_latest_checkpoint(copy), std::optional<std::string>(copy + "/" + *pointer));
  ASSERT_EQ(run_to_end(resumed(tiny_train_args(copy, 6, 2)), dir.path("again.log"), &text), 0) << text;
  expect_losses_of(straight + "/metrics.jsonl", copy + "/metrics.jsonl", 6);
}

TEST(CheckpointOutputDirCli, AnUnwritableOutputFolderIsRefusedBeforeTheModelIsBuilt) {
  memtx_test::TempDir dir("readonly");
  const std::string file = dir.write("file", "x").string();
  // --init-from a folder that does not exist: the output folder must be refused first.
  auto args = tiny_train_args(file + "/run", 2, 2);
  args.push_back("--init-from");
  args.push_back(dir.path("no-such-model"));
  std::string text;
  EXPECT_EQ(run_to_end(args, dir.path("notdir.log"), &text), 1) << text;
  EXPECT_TRUE(contains(text, "memtx-cli train: [IO] training.output_dir '" + file + "/run' cannot be created: Not a directory"))
      << text;
  EXPECT_FALSE(contains(text, "no-such-model")) << text;

  if (fs::is_directory("/sys/fs")) {  // sysfs: no new files, even for root
    EXPECT_EQ(run_to_end(tiny_train_args("/sys/fs", 2, 2), dir.path("sys.log"), &text), 1) << text;
    EXPECT_TRUE(contains(text, "[IO] training.output_dir '/sys/fs' is not writable (cannot create a file in it)")) << text;
  }
}

TEST(CheckpointOutputDirCli, AReadOnlyMountIsRefusedEvenForRoot) {
  memtx_test::TempDir dir("romount");
  const std::string mnt = dir.path("mnt");
  fs::create_directories(mnt);
  const std::string script = "mount -t tmpfs -o ro,size=64k tmpfs '" + mnt + "' 2>/dev/null || exit 77\n" +
                             "OMP_NUM_THREADS=1" + quoted(tiny_train_args(mnt, 2, 2)) + "\necho \"exit code $?\"\n" +
                             "OMP_NUM_THREADS=1" + quoted(tiny_train_args(mnt + "/sub", 2, 2)) + "\necho \"exit code $?\"\n";
  std::string text;
  const int code = run_with_private_mounts(script, dir.path("ro.log"), &text);
  if (code == kSkip) GTEST_SKIP() << "no tmpfs mount in a private namespace here: " << text;
  ASSERT_EQ(code, 0) << text;
  EXPECT_TRUE(contains(text, "[IO] training.output_dir '" + mnt +
                                 "' is not writable (cannot create a file in it): Read-only file system"))
      << text;
  EXPECT_TRUE(contains(text, "[IO] training.output_dir '" + mnt + "/sub' cannot be created: Read-only file system"))
      << text;
  EXPECT_FALSE(contains(text, "exit code 0")) << text;
}

}  // namespace
}  // namespace memtx::crash
