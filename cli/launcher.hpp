// cli/launcher.hpp: the local worker launcher behind `memtx-cli train --nproc_per_node N` (for users without
// torchrun): starts N copies of a command with torchrun's environment (RANK, LOCAL_RANK, WORLD_SIZE,
// LOCAL_WORLD_SIZE, GROUP_RANK=0, ROLE_RANK, MASTER_ADDR=127.0.0.1, MASTER_PORT), passes SIGINT/SIGTERM on to
// them, stops the others when one fails, and returns the run's exit code. Also: the worker command line (the
// launcher's own options removed) and the refusals (bad N, a nested launch). launcher.cpp starts and supervises
// the workers, launch_setup.cpp prepares their environment and command line.
#pragma once
#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace memtx_cli {

// The most workers one launch starts (a sanity bound: one per accelerator or a few CPU ranks).
constexpr int kMaxLocalWorkers = 64;

struct LaunchOptions {
  std::string executable;  // the program the workers run; empty: this program (/proc/self/exe)
  std::string argv0;       // the workers' argv[0]; empty: the executable's path
  int master_port = 0;     // MASTER_PORT; 0: a free port of 127.0.0.1, picked at launch
  // After a worker fails (or a second SIGINT/SIGTERM), how long the others get between SIGTERM and SIGKILL.
  std::chrono::milliseconds grace{30000};
  // The NAME=value entries the workers' environment starts from; nullopt: this process's environment.
  std::optional<std::vector<std::string>> environment;
  std::ostream* messages = nullptr;  // where the launcher's own lines go; nullptr: std::cerr
};

// This process's environment as NAME=value entries.
std::vector<std::string> process_environment();

// Why nproc workers cannot be launched with master_port (0: pick one) from an environment holding `environment`:
// N outside 1..kMaxLocalWorkers, a port outside 0..65535, or WORLD_SIZE already set (this process is itself
// a worker of torchrun or of another launch). Empty when the launch may go ahead.
std::string launch_refusal(int nproc, int master_port, const std::vector<std::string>& environment);

// The environment of worker `rank` of nproc: base without the distributed variables it had, plus RANK,
// LOCAL_RANK, GROUP_RANK=0, ROLE_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_WORLD_SIZE=1, ROLE_WORLD_SIZE,
// ROLE_NAME=default, MASTER_ADDR=127.0.0.1, MASTER_PORT; and OMP_NUM_THREADS = usable cores / nproc (at least 1)
// when nproc > 1 and base does not set it, so the workers do not each start a thread per core.
std::vector<std::string> worker_environment(const std::vector<std::string>& base, int rank, int nproc, int master_port);

// A TCP port of 127.0.0.1 that is free now (bound to port 0, read back, closed). Throws std::runtime_error.
int pick_free_port();

// A worker's arguments: args without the launch options (--nproc_per_node N, --nproc_per_node=N, --master_port P,
// --master_port=P); everything else, and all after `--`, kept in order.
std::vector<std::string> without_launch_options(const std::vector<std::string>& args);

// Starts nproc workers running `executable argv0 worker_args...` (posix_spawn) with worker_environment, prints
// "memtx-cli: started N workers on 127.0.0.1:PORT", and waits for all of them:
//  - all exit 0: returns 0;
//  - one exits non-zero or is killed by a signal: reports "worker RANK i exited with status S" (or "was killed
//    by signal X (SIGNAME)"), sends SIGTERM to the others, SIGKILL to those still running after o.grace, and
//    returns the first failure's code (its exit status, or 128 + the signal);
//  - SIGINT/SIGTERM to the launcher: passed on to the workers, which are then waited for without a deadline (the
//    trainer writes a checkpoint before it stops); a second one is passed on too and starts the grace period.
// A refusal (launch_refusal) or a worker that cannot be started: a message and 1 (started workers are stopped).
// Returns only once every started worker has been reaped; throws nothing. SIGINT/SIGTERM handlers are
// installed for the call and restored after.
int launch_local_workers(const std::vector<std::string>& worker_args, int nproc, const LaunchOptions& o);

}  // namespace memtx_cli
