// tests/dist/dist_support.cpp: starting a test's ranks as fresh processes and collecting their reports.
#include "dist_support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace memtx::test {
namespace {

int bound_socket(int* port_out) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    throw std::runtime_error("bind: " + std::string(std::strerror(errno)));
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port_out = ntohs(addr.sin_port);
  return fd;
}

// Variables a rank must not inherit from the test's own environment.
bool inherited_ok(const std::string& entry) {
  static const char* drop[] = {"RANK=", "WORLD_SIZE=", "LOCAL_RANK=", "MASTER_ADDR=", "MASTER_PORT=",
                               "GLOO_SOCKET_IFNAME=", "TORCH_GLOO_LAZY_INIT=", "MEMTX_DIST_TEST_"};
  for (const char* d : drop)
    if (entry.rfind(d, 0) == 0) return false;
  return true;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::map<std::string, std::string> parse_report(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

}  // namespace

int free_port() {
  int port = 0;
  ::close(bound_socket(&port));
  return port;
}

ListeningSocket::ListeningSocket() {
  fd_ = bound_socket(&port_);
  if (::listen(fd_, 4) != 0) throw std::runtime_error("listen: " + std::string(std::strerror(errno)));
}

ListeningSocket::~ListeningSocket() {
  if (fd_ >= 0) ::close(fd_);
}

std::vector<RankRun> run_ranks(const RunSpec& spec) {
  char dir_template[] = "/tmp/memtx_dist_test_XXXXXX";
  if (!::mkdtemp(dir_template)) throw std::runtime_error("mkdtemp failed");
  const std::filesystem::path dir = dir_template;
  const int port = spec.port ? spec.port : free_port();
  std::vector<int> ranks = spec.ranks;
  if (ranks.empty())
    for (int r = 0; r < spec.world_size; ++r) ranks.push_back(r);
  std::vector<int> wait_for = spec.wait_for.empty() ? ranks : spec.wait_for;

  std::vector<RankRun> runs;
  std::vector<pid_t> pids;
  for (int rank : ranks) {
    const auto report = dir / ("rank" + std::to_string(rank) + ".report");
    const auto log = dir / ("rank" + std::to_string(rank) + ".log");
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
      if (inherited_ok(*e)) env.emplace_back(*e);
    env.push_back("RANK=" + std::to_string(rank));
    env.push_back("LOCAL_RANK=" + std::to_string(rank));
    env.push_back("WORLD_SIZE=" + std::to_string(spec.world_size));
    env.push_back("MASTER_ADDR=127.0.0.1");
    env.push_back("MASTER_PORT=" + std::to_string(port));
    env.push_back("MEMTX_DIST_TEST_SCENARIO=" + spec.scenario);
    env.push_back("MEMTX_DIST_TEST_REPORT=" + report.string());
    for (const auto& [k, v] : spec.env) env.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string exe = "/proc/self/exe";
    char* argv[] = {exe.data(), nullptr};

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      for (pid_t p : pids) ::kill(p, SIGKILL);
      for (pid_t p : pids) ::waitpid(p, nullptr, 0);
      throw std::runtime_error("posix_spawn: " + std::string(std::strerror(rc)));
    }
    RankRun run;
    run.rank = rank;
    runs.push_back(run);
    pids.push_back(pid);
  }

  // Wait for the ranks that matter, then stop the rest; kill everything at the deadline.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(spec.deadline_seconds);
  std::vector<bool> done(pids.size(), false);
  auto collect = [&](size_t i, int status) {
    done[i] = true;
    if (WIFEXITED(status)) {
      runs[i].exited = true;
      runs[i].exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      runs[i].signal = WTERMSIG(status);
    }
  };
  while (true) {
    bool waiting = false;
    for (size_t i = 0; i < pids.size(); ++i) {
      if (done[i]) continue;
      int status = 0;
      if (::waitpid(pids[i], &status, WNOHANG) == pids[i]) collect(i, status);
      else if (std::find(wait_for.begin(), wait_for.end(), runs[i].rank) != wait_for.end()) waiting = true;
    }
    if (!waiting || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (size_t i = 0; i < pids.size(); ++i) {
    if (done[i]) continue;
    ::kill(pids[i], SIGKILL);
    int status = 0;
    ::waitpid(pids[i], &status, 0);
    collect(i, status);
    runs[i].killed_by_test = true;
  }
  for (auto& run : runs) {
    run.report = parse_report(read_file(dir / ("rank" + std::to_string(run.rank) + ".report")));
    run.log = read_file(dir / ("rank" + std::to_string(run.rank) + ".log"));
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return runs;
}

std::string describe(const std::vector<RankRun>& runs) {
  std::ostringstream s;
  for (const auto& run : runs) {
    s << "--- rank " << run.rank << ": "
      << (run.killed_by_test ? "killed by the test" : run.exited ? "exit " + std::to_string(run.exit_code)
                                                                  : "signal " + std::to_string(run.signal))
      << "\n";
    for (const auto& [k, v] : run.report) s << "  " << k << "=" << v << "\n";
    s << "  log:\n" << run.log << "\n";
  }
  return s.str();
}

}  // namespace memtx::test
