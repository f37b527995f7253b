// cli/launcher.cpp: the local worker launcher (see launcher.hpp): posix_spawn of the workers and the supervision
// loop (SIGINT/SIGTERM passed on, the others stopped after a failure, every worker reaped). The workers'
// environment, command line, port and the refusals are in launch_setup.cpp.
#include "launcher.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <set>
#include <thread>

namespace memtx_cli {
namespace {

using Clock = std::chrono::steady_clock;

std::string signal_name(int sig) {
  static const std::pair<int, const char*> names[] = {
      {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},   {SIGABRT, "SIGABRT"},
      {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"}, {SIGSEGV, "SIGSEGV"}, {SIGPIPE, "SIGPIPE"},
      {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGUSR1, "SIGUSR1"}, {SIGUSR2, "SIGUSR2"}};
  for (const auto& [number, name] : names)
    if (number == sig) return name;
  return "signal " + std::to_string(sig);
}

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

std::string self_path() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "memtx-cli";
}

// SIGINT/SIGTERM received while the launcher runs: counted here, passed on by the supervision loop.
std::atomic<int> g_stop_signals{0};
std::atomic<int> g_last_stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "a signal handler needs a lock-free atomic");

extern "C" void on_stop_signal(int sig) {
  g_last_stop_signal.store(sig);
  g_stop_signals.fetch_add(1);
}

// Installs on_stop_signal for SIGINT and SIGTERM for its lifetime.
class StopSignals {
 public:
  StopSignals() {
    g_stop_signals.store(0);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

struct Worker {
  int rank;
  pid_t pid;
  bool running = true;
};

// The started workers; whichever are still running when it goes (an exception) are killed and reaped.
class Workers {
 public:
  ~Workers() {
    for (auto& w : list)
      if (w.running) {
        kill(w.pid, SIGKILL);
        reap(w, /*block=*/true);
      }
  }
  // The worker's wait status once it has ended (and is reaped), nullopt while it runs.
  static std::optional<int> reap(Worker& w, bool block) {
    int status = 0;
    pid_t r;
    do r = waitpid(w.pid, &status, block ? 0 : WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == 0) return std::nullopt;
    w.running = false;
    if (r < 0) return 0;  // ECHILD: reaped elsewhere, its status is lost
    return status;
  }
  void signal_running(int sig) {
    for (const auto& w : list)
      if (w.running) kill(w.pid, sig);
  }
  size_t running() const {
    return static_cast<size_t>(std::count_if(list.begin(), list.end(), [](const Worker& w) { return w.running; }));
  }
  std::vector<Worker> list;
};

// 0 when the worker succeeded, else its exit status or 128 + the signal that killed it.
int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// Starts one worker; 0 or the errno of the failed start.
int spawn(const std::string& exe, const std::vector<std::string>& argv, const std::vector<std::string>& env, pid_t* pid) {
  posix_spawnattr_t attr;
  if (int e = posix_spawnattr_init(&attr)) return e;
  sigset_t none, stop;
  sigemptyset(&none);
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  posix_spawnattr_setsigmask(&attr, &none);   // nothing blocked
  posix_spawnattr_setsigdefault(&attr, &stop);  // SIGINT/SIGTERM as a fresh process has them
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  auto args = c_strings(argv), envp = c_strings(env);
  const int e = posix_spawn(pid, exe.c_str(), nullptr, &attr, args.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  return e;
}

double seconds(std::chrono::milliseconds d) { return std::chrono::duration<double>(d).count(); }

// The signals the launcher sent to the workers (passed on or its own), to tell the ends it caused.
class SentSignals {
 public:
  void add(int sig) { sent_.insert(sig); }
  // Killed by one of them, or exited with 128 + one (the trainer's 130 for a run cancelled by SIGINT).
  bool caused(int status) const {
    if (WIFSIGNALED(status)) return sent_.count(WTERMSIG(status)) > 0;
    return WIFEXITED(status) && WEXITSTATUS(status) > 128 && sent_.count(WEXITSTATUS(status) - 128) > 0;
  }

 private:
  std::set<int> sent_;
};

void report(std::ostream& log, int rank, int status) {
  log << "memtx-cli: worker RANK " << rank;
  if (WIFSIGNALED(status))
    log << " was killed by signal " << WTERMSIG(status) << " (" << signal_name(WTERMSIG(status)) << ")\n";
  else
    log << " exited with status " << exit_code_of(status) << "\n";
}

// Waits for every worker (see launch_local_workers for the rules) and returns the run's exit code.
int supervise(Workers& workers, const LaunchOptions& o, std::ostream& log) {
  int result = 0;
  bool stopping = false;  // SIGTERM sent to the others after a failure
  int passed_on = 0;      // SIGINT/SIGTERM received and passed on
  SentSignals sent;
  std::optional<Clock::time_point> deadline;  // SIGKILL for whoever still runs then
  while (workers.running() > 0) {
    const int received = g_stop_signals.load();
    if (received > passed_on) {
      const int sig = g_last_stop_signal.load();
      sent.add(sig);
      workers.signal_running(sig);
      if (passed_on == 0)
        log << "memtx-cli: " << signal_name(sig) << ": passed on to the workers, waiting for them to stop "
            << "(another SIGINT/SIGTERM: SIGKILL after " << seconds(o.grace) << " s)\n";
      if (received > 1 && !deadline) deadline = Clock::now() + o.grace;
      passed_on = received;
    }
    for (auto& w : workers.list) {
      if (!w.running) continue;
      const auto status = Workers::reap(w, /*block=*/false);
      if (!status || exit_code_of(*status) == 0) continue;
      if (!sent.caused(*status)) report(log, w.rank, *status);
      if (result == 0) result = exit_code_of(*status);
      if (!stopping && passed_on == 0 && workers.running() > 0) {
        stopping = true;
        log << "memtx-cli: stopping the other workers (SIGTERM; SIGKILL after " << seconds(o.grace) << " s)\n";
        sent.add(SIGTERM);
        workers.signal_running(SIGTERM);
        deadline = Clock::now() + o.grace;
      }
    }
    if (deadline && Clock::now() >= *deadline && workers.running() > 0) {
      log << "memtx-cli: " << workers.running() << " worker(s) still running after " << seconds(o.grace)
          << " s: SIGKILL\n";
      sent.add(SIGKILL);
      workers.signal_running(SIGKILL);
      deadline.reset();
    }
    if (workers.running() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return result;
}

}  // namespace

int launch_local_workers(const std::vector<std::string>& worker_args, int nproc, const LaunchOptions& o) {
  std::ostream& log = o.messages ? *o.messages : std::cerr;
  try {
    const std::vector<std::string> base = o.environment ? *o.environment : process_environment();
    if (const std::string why = launch_refusal(nproc, o.master_port, base); !why.empty()) {
      log << "memtx-cli: " << why << "\n";
      return 1;
    }
    const int port = o.master_port ? o.master_port : pick_free_port();
    const std::string exe = o.executable.empty() ? "/proc/self/exe" : o.executable;
    std::vector<std::string> argv{o.argv0.empty() ? (o.executable.empty() ? self_path() : exe) : o.argv0};
    argv.insert(argv.end(), worker_args.begin(), worker_args.end());

    StopSignals signals;  // before the first start: a Ctrl-C from now on reaches every worker
    Workers workers;
    for (int rank = 0; rank < nproc; ++rank) {
      pid_t pid = 0;
      if (const int e = spawn(exe, argv, worker_environment(base, rank, nproc, port), &pid)) {
        log << "memtx-cli: cannot start worker RANK " << rank << " (" << exe << "): " << std::strerror(e) << "\n";
        return 1;  // ~Workers kills and reaps the ones started
      }
      workers.list.push_back({rank, pid});
    }
    log << "memtx-cli: started " << nproc << " worker" << (nproc == 1 ? "" : "s") << " on 127.0.0.1:" << port << "\n";
    return supervise(workers, o, log);
  } catch (const std::exception& e) {
    log << "memtx-cli: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace memtx_cli
