// tests/crash/crash_support.hpp: running memtx-cli as a child process for the crash tests: the tiny training
// command line, spawning with its output in a file (OMP_NUM_THREADS=1), waiting, and reading a run's folder
// back (metrics records, the names left in it).
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/temp_dir.hpp"

extern char** environ;

namespace memtx::crash {

namespace fs = std::filesystem;

inline std::string cli_path() { return MEMTX_CLI; }

// `memtx-cli train` on a 1-layer, 32-wide causal model (byte-sized vocabulary of configs/tiny_causal.yaml,
// built-in synthetic data), 32-token rows of batch 2, one metrics record per step.
inline std::vector<std::string> tiny_train_args(const std::string& output_dir, int64_t max_steps, int64_t save_steps) {
  return {cli_path(), "train", "--config", std::string(MEMTX_SOURCE_DIR) + "/configs/tiny_causal.yaml",
          "--hidden_dim", "32", "--intermediate_dim", "64", "--num_layers", "1", "--max_length", "32",
          "--batch_size", "2", "--logging_steps", "1", "--warmup_steps", "1",
          "--max_steps", std::to_string(max_steps), "--save_steps", std::to_string(save_steps),
          "--output_dir", output_dir, "--quiet"};
}

// Starts argv[0] with argv, stdout and stderr into log_path, OMP_NUM_THREADS=1 and no MEMTX_PLUGIN_PATH (the
// build tree's plugins). before_exec runs in the child (async-signal-safe calls only: setrlimit, signal).
inline pid_t spawn(const std::vector<std::string>& args, const std::string& log_path,
                   const std::function<void()>& before_exec = {}) {
  std::vector<std::string> env_text;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    if (kv.rfind("OMP_NUM_THREADS=", 0) == 0 || kv.rfind("MEMTX_PLUGIN_PATH=", 0) == 0) continue;
    env_text.push_back(kv);
  }
  env_text.push_back("OMP_NUM_THREADS=1");
  env_text.push_back("MEMTX_PLUGIN_PATH=");
  std::vector<char*> envp, argv;
  for (auto& s : env_text) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args_copy = args;
  for (auto& s : args_copy) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    if (before_exec) before_exec();
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
  return pid;
}

// The exit status of pid (waitpid's), blocking.
inline int wait_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// Runs args to the end: the exit code (128 + signal when killed); the output in *output.
inline int run_to_end(const std::vector<std::string>& args, const std::string& log_path, std::string* output = nullptr,
                      const std::function<void()>& before_exec = {}) {
  const pid_t pid = spawn(args, log_path, before_exec);
  if (pid < 0) return -1;
  const int status = wait_status(pid);
  if (output) {
    std::ifstream in(log_path);
    std::stringstream text;
    text << in.rdbuf();
    *output = text.str();
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "type": "train" records by step (every line must parse: a torn line fails the test's caller).
inline std::map<int64_t, nlohmann::json> train_records(const std::string& metrics_path, int* torn = nullptr) {
  std::map<int64_t, nlohmann::json> out;
  std::istringstream in(read_all(metrics_path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      if (torn) ++*torn;
      continue;
    }
    if (j.value("type", "") == "train") out[j["step"].get<int64_t>()] = j;
  }
  return out;
}

inline std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace memtx::crash
