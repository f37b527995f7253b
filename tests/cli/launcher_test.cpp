// tests/cli/launcher_test.cpp: the local worker launcher of `memtx-cli train --nproc_per_node N`, with /bin/sh
// scripts as workers: each rank sees its own RANK/LOCAL_RANK and the same WORLD_SIZE/MASTER_ADDR/MASTER_PORT;
// a failing worker's code is returned and the others are stopped (SIGTERM, then SIGKILL after the grace
// period); a worker killed by a signal gives 128 + it; SIGINT is passed on and the workers are awaited; nested
// launches and bad counts are refused; no worker is left unreaped; the worker command line drops the options.
// A worker that the launcher should stop gives up by itself after some 20 s, so a broken launcher fails the
// test instead of hanging it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "launcher.hpp"

namespace memtx_cli {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;
using Clock = std::chrono::steady_clock;

struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "memtx-launcher-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool wait_for(const fs::path& p, std::chrono::seconds limit = std::chrono::seconds(10)) {
  const auto until = Clock::now() + limit;
  while (!fs::exists(p)) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// True when this process has no child left, reaped or not (no zombie).
bool no_children() {
  errno = 0;
  return waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

// One launch of `sh -c script` workers with DIR set to dir and the given extra environment.
struct ShellLaunch {
  int code = -1;
  std::string messages;
  double seconds = 0;
};

LaunchOptions shell_options(const TempDir& dir, std::ostringstream& messages, const Strings& extra_env) {
  LaunchOptions o;
  o.executable = "/bin/sh";
  o.argv0 = "sh";
  o.grace = std::chrono::milliseconds(1000);
  o.environment = Strings{"PATH=/usr/bin:/bin", "DIR=" + dir.path.string()};
  o.environment->insert(o.environment->end(), extra_env.begin(), extra_env.end());
  o.messages = &messages;
  return o;
}

ShellLaunch launch_shell(const TempDir& dir, int nproc, const std::string& script, const Strings& extra_env = {},
                         int master_port = 0) {
  std::ostringstream messages;
  LaunchOptions o = shell_options(dir, messages, extra_env);
  o.master_port = master_port;
  ShellLaunch out;
  const auto start = Clock::now();
  out.code = launch_local_workers({"-c", script}, nproc, o);
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  out.messages = messages.str();
  return out;
}

TEST(Launcher, EveryRankSeesItsOwnRankAndTheSameWorld) {
  TempDir dir;
  // Stale values of the base environment are replaced; other variables pass through.
  const auto run = launch_shell(dir, 3,
                                "echo \"$RANK $LOCAL_RANK $ROLE_RANK $GROUP_RANK $WORLD_SIZE $LOCAL_WORLD_SIZE "
                                "$GROUP_WORLD_SIZE $MASTER_ADDR $MASTER_PORT $KEEP\" > \"$DIR/rank$RANK\"",
                                {"RANK=99", "MASTER_PORT=1", "MASTER_ADDR=10.0.0.1", "KEEP=kept"});
  EXPECT_EQ(run.code, 0) << run.messages;
  std::smatch m;
  ASSERT_TRUE(std::regex_match(run.messages, m, std::regex("memtx-cli: started 3 workers on 127\\.0\\.0\\.1:([0-9]+)\n")))
      << run.messages;
  const int port = std::stoi(m[1]);
  EXPECT_GT(port, 0);
  EXPECT_LE(port, 65535);
  for (int rank = 0; rank < 3; ++rank) {
    const std::string r = std::to_string(rank);
    EXPECT_EQ(read(dir.path / ("rank" + r)), r + " " + r + " " + r + " 0 3 3 1 127.0.0.1 " + std::to_string(port) + " kept\n");
  }
  EXPECT_TRUE(no_children());
}

TEST(Launcher, GivenMasterPortAndThreadsPerWorker) {
  TempDir dir;
  const std::string script = "echo \"$MASTER_PORT ${OMP_NUM_THREADS-unset}\" > \"$DIR/rank$RANK\"";
  auto run = launch_shell(dir, 2, script, {}, 29555);
  ASSERT_EQ(run.code, 0) << run.messages;
  EXPECT_EQ(run.messages, "memtx-cli: started 2 workers on 127.0.0.1:29555\n");
  // Two workers share the cores: OMP_NUM_THREADS is set to a whole positive number when it was not set.
  std::smatch m;
  const std::string rank1 = read(dir.path / "rank1");
  ASSERT_TRUE(std::regex_match(rank1, m, std::regex("29555 ([1-9][0-9]*)\n"))) << rank1;
  EXPECT_LE(std::stoi(m[1]), static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  // A value of the user's is kept; a single worker gets none.
  run = launch_shell(dir, 2, script, {"OMP_NUM_THREADS=3"}, 29555);
  EXPECT_EQ(read(dir.path / "rank0"), "29555 3\n");
  run = launch_shell(dir, 1, script, {}, 29555);
  EXPECT_EQ(run.messages, "memtx-cli: started 1 worker on 127.0.0.1:29555\n");
  EXPECT_EQ(read(dir.path / "rank0"), "29555 unset\n");
}

TEST(Launcher, AFailingWorkerStopsTheOthersAndGivesItsCode) {
  TempDir dir;
  // Rank 1 fails once ranks 0 and 2 are up; they would sleep a minute.
  const auto run = launch_shell(dir, 3,
                                "if [ \"$RANK\" = 1 ]; then\n"
                                "  while [ ! -e \"$DIR/up0\" ] || [ ! -e \"$DIR/up2\" ]; do sleep 0.02; done; exit 3\n"
                                "fi\n"
                                ": > \"$DIR/up$RANK\"; exec sleep 20");
  EXPECT_EQ(run.code, 3) << run.messages;
  EXPECT_NE(run.messages.find("memtx-cli: worker RANK 1 exited with status 3\n"), std::string::npos) << run.messages;
  EXPECT_NE(run.messages.find("stopping the other workers (SIGTERM; SIGKILL after 1 s)"), std::string::npos);
  // The ones the launcher stopped are not reported as failures, and SIGTERM sufficed: well within the grace.
  EXPECT_EQ(run.messages.find("RANK 0"), std::string::npos) << run.messages;
  EXPECT_EQ(run.messages.find("RANK 2"), std::string::npos) << run.messages;
  EXPECT_EQ(run.messages.find("SIGKILL\n"), std::string::npos) << run.messages;
  EXPECT_LT(run.seconds, 5.0);
  EXPECT_TRUE(no_children());
}

TEST(Launcher, AWorkerIgnoringSigtermIsKilledAfterTheGracePeriod) {
  TempDir dir;
  const auto run = launch_shell(dir, 2,
                                "if [ \"$RANK\" = 1 ]; then\n"
                                "  while [ ! -e \"$DIR/up0\" ]; do sleep 0.02; done; exit 4\n"
                                "fi\n"
                                "trap '' TERM; : > \"$DIR/up0\"; exec sleep 20");
  EXPECT_EQ(run.code, 4) << run.messages;
  EXPECT_NE(run.messages.find("memtx-cli: 1 worker(s) still running after 1 s: SIGKILL\n"), std::string::npos)
      << run.messages;
  EXPECT_EQ(run.messages.find("RANK 0"), std::string::npos) << run.messages;
  EXPECT_GE(run.seconds, 1.0);
  EXPECT_LT(run.seconds, 10.0);
  EXPECT_TRUE(no_children());
}

TEST(Launcher, AWorkerKilledByASignalGives128PlusTheSignal) {
  TempDir dir;
  const auto run = launch_shell(dir, 2, "if [ \"$RANK\" = 0 ]; then kill -KILL $$; fi; exec sleep 20");
  EXPECT_EQ(run.code, 128 + 9) << run.messages;
  EXPECT_NE(run.messages.find("memtx-cli: worker RANK 0 was killed by signal 9 (SIGKILL)\n"), std::string::npos)
      << run.messages;
  EXPECT_EQ(run.messages.find("RANK 1"), std::string::npos) << run.messages;
  EXPECT_LT(run.seconds, 5.0);
  EXPECT_TRUE(no_children());
}

TEST(Launcher, SigintIsPassedOnAndTheWorkersAreAwaited) {
  TempDir dir;
  struct sigaction before {};
  sigaction(SIGINT, nullptr, &before);
  std::ostringstream messages;
  LaunchOptions o = shell_options(dir, messages, {});
  // Each worker stops on SIGINT after a little work (the trainer: a checkpoint), with the trainer's exit code.
  const std::string script =
      "trap 'sleep 0.3; echo stopped > \"$DIR/int$RANK\"; exit 130' INT\n"
      ": > \"$DIR/up$RANK\"; for i in $(seq 1000); do sleep 0.02; done";
  int code = -1;
  std::thread launcher([&] { code = launch_local_workers({"-c", script}, 2, o); });
  const bool up = wait_for(dir.path / "up0") && wait_for(dir.path / "up1");
  kill(getpid(), SIGINT);  // the launcher's handler is in place: it was installed before the workers started
  launcher.join();
  ASSERT_TRUE(up);
  EXPECT_EQ(code, 130) << messages.str();
  EXPECT_EQ(read(dir.path / "int0"), "stopped\n");
  EXPECT_EQ(read(dir.path / "int1"), "stopped\n");
  EXPECT_NE(messages.str().find("memtx-cli: SIGINT: passed on to the workers"), std::string::npos) << messages.str();
  EXPECT_EQ(messages.str().find("RANK"), std::string::npos) << messages.str();  // a stop asked for is no failure
  EXPECT_EQ(messages.str().find("SIGKILL\n"), std::string::npos) << messages.str();
  struct sigaction after {};
  sigaction(SIGINT, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);  // the handler is restored
  EXPECT_TRUE(no_children());
}

TEST(Launcher, ASecondSignalKillsTheWorkersAfterTheGracePeriod) {
  TempDir dir;
  std::ostringstream messages;
  LaunchOptions o = shell_options(dir, messages, {});
  const std::string script = "trap 'echo x >> \"$DIR/int$RANK\"' INT; : > \"$DIR/up$RANK\"; for i in $(seq 1000); do sleep 0.02; done";
  int code = -1;
  std::thread launcher([&] { code = launch_local_workers({"-c", script}, 1, o); });
  const bool up = wait_for(dir.path / "up0");
  kill(getpid(), SIGINT);
  const bool first = wait_for(dir.path / "int0");  // passed on; the worker goes on
  const auto second = Clock::now();
  kill(getpid(), SIGINT);
  launcher.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - second).count();
  ASSERT_TRUE(up && first);
  EXPECT_EQ(code, 128 + 9) << messages.str();
  EXPECT_NE(messages.str().find("memtx-cli: 1 worker(s) still running after 1 s: SIGKILL\n"), std::string::npos)
      << messages.str();
  EXPECT_GE(seconds, 0.9);
  EXPECT_LT(seconds, 10.0);
  EXPECT_TRUE(no_children());
}

TEST(Launcher, RefusesANestedLaunch) {
  TempDir dir;
  const auto run = launch_shell(dir, 2, ": > \"$DIR/ran$RANK\"", {"WORLD_SIZE=4"});
  EXPECT_EQ(run.code, 1);
  EXPECT_NE(run.messages.find("memtx-cli: WORLD_SIZE is already set (4): this process is itself a worker"),
            std::string::npos)
      << run.messages;
  EXPECT_TRUE(fs::is_empty(dir.path));  // nothing started
}

TEST(Launcher, RefusesABadWorkerCountOrPort) {
  TempDir dir;
  for (int n : {0, -1, kMaxLocalWorkers + 1}) {
    const auto run = launch_shell(dir, n, ": > \"$DIR/ran$RANK\"");
    EXPECT_EQ(run.code, 1) << n;
    EXPECT_EQ(run.messages, "memtx-cli: --nproc_per_node must be between 1 and 64, got " + std::to_string(n) + "\n");
  }
  EXPECT_TRUE(fs::is_empty(dir.path));
  EXPECT_EQ(launch_refusal(kMaxLocalWorkers, 0, {}), "");
  EXPECT_EQ(launch_refusal(1, 65535, {"WORLD_SIZEX=1"}), "");
  EXPECT_NE(launch_refusal(2, 65536, {}).find("--master_port must be between 1 and 65535"), std::string::npos);
  EXPECT_NE(launch_refusal(2, -5, {}).find("--master_port"), std::string::npos);
}

TEST(Launcher, AProgramThatCannotStartIsReported) {
  TempDir dir;
  std::ostringstream messages;
  LaunchOptions o = shell_options(dir, messages, {});
  o.executable = "/nonexistent/memtx-worker";
  EXPECT_EQ(launch_local_workers({}, 2, o), 1);
  EXPECT_EQ(messages.str(), "memtx-cli: cannot start worker RANK 0 (/nonexistent/memtx-worker): No such file or directory\n");
  EXPECT_TRUE(no_children());
}

TEST(Launcher, PicksAPortThatCanBeBound) {
  const int port = pick_free_port();
  ASSERT_GT(port, 0);
  ASSERT_LE(port, 65535);
  // The launcher closed it: rank 0's store can listen there.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << std::strerror(errno);
  EXPECT_EQ(listen(fd, 1), 0);
  close(fd);
}

TEST(WithoutLaunchOptions, DropsBothFormsAndKeepsTheRestInOrder) {
  const Strings args = {"train", "--config", "c.yaml", "--nproc_per_node", "2", "--max_steps", "5",
                        "--master_port=29500", "--attention_list", "causal", "ssm", "--nproc_per_node=3",
                        "--master_port", "1234", "--nproc_per_nodes", "7", "--set", "a=--master_port", "--quiet",
                        "--", "--nproc_per_node", "4"};
  EXPECT_EQ(without_launch_options(args),
            (Strings{"train", "--config", "c.yaml", "--max_steps", "5", "--attention_list", "causal", "ssm",
                     "--nproc_per_nodes", "7", "--set", "a=--master_port", "--quiet", "--", "--nproc_per_node", "4"}));
  EXPECT_EQ(without_launch_options({"train", "--quiet", "--nproc_per_node"}), (Strings{"train", "--quiet"}));
  EXPECT_EQ(without_launch_options({}), Strings{});
}

}  // namespace
}  // namespace memtx_cli
