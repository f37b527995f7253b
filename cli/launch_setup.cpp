// cli/launch_setup.cpp: what the local worker launcher (launcher.hpp) prepares before it starts anything: the
// refusals (bad N or port, a nested launch), each worker's torchrun environment, a free MASTER_PORT, and the
// worker command line without the launch options.
#include "launcher.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <set>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace memtx_cli {
namespace {

const char* const kLaunchOptions[] = {"--nproc_per_node", "--master_port"};

// The variables a worker gets from the launcher; whatever the base environment had for them is dropped.
const std::set<std::string> kWorkerVariables = {"RANK",       "LOCAL_RANK",       "GROUP_RANK",      "ROLE_RANK",
                                                "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_WORLD_SIZE", "ROLE_WORLD_SIZE",
                                                "ROLE_NAME",  "MASTER_ADDR",      "MASTER_PORT"};

std::string name_of(const std::string& entry) { return entry.substr(0, entry.find('=')); }

std::optional<std::string> lookup(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& entry : env)
    if (name_of(entry) == name) return entry.substr(std::min(entry.size(), name.size() + 1));
  return std::nullopt;
}

int usable_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

std::vector<std::string> process_environment() {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) out.emplace_back(*e);
  return out;
}

std::string launch_refusal(int nproc, int master_port, const std::vector<std::string>& environment) {
  if (nproc < 1 || nproc > kMaxLocalWorkers)
    return "--nproc_per_node must be between 1 and " + std::to_string(kMaxLocalWorkers) + ", got " +
           std::to_string(nproc);
  if (master_port < 0 || master_port > 65535)
    return "--master_port must be between 1 and 65535 (0: a free one), got " + std::to_string(master_port);
  if (auto ws = lookup(environment, "WORLD_SIZE"))
    return "WORLD_SIZE is already set (" + *ws + "): this process is itself a worker of a distributed launch "
           "(torchrun or --nproc_per_node), which starts no workers of its own; drop --nproc_per_node there, or "
           "unset WORLD_SIZE";
  return "";
}

std::vector<std::string> worker_environment(const std::vector<std::string>& base, int rank, int nproc, int master_port) {
  std::vector<std::string> env;
  for (const auto& entry : base)
    if (!kWorkerVariables.count(name_of(entry))) env.push_back(entry);
  const std::string r = std::to_string(rank), n = std::to_string(nproc);
  env.insert(env.end(), {"RANK=" + r, "LOCAL_RANK=" + r, "GROUP_RANK=0", "ROLE_RANK=" + r, "WORLD_SIZE=" + n,
                         "LOCAL_WORLD_SIZE=" + n, "GROUP_WORLD_SIZE=1", "ROLE_WORLD_SIZE=" + n, "ROLE_NAME=default",
                         "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + std::to_string(master_port)});
  if (nproc > 1 && !lookup(base, "OMP_NUM_THREADS"))
    env.push_back("OMP_NUM_THREADS=" + std::to_string(std::max(1, usable_cores() / nproc)));
  return env;
}

int pick_free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("cannot open a socket to pick MASTER_PORT: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int error = errno;
  close(fd);
  if (!ok) throw std::runtime_error(std::string("cannot pick a free port of 127.0.0.1: ") + std::strerror(error));
  return ntohs(addr.sin_port);
}

std::vector<std::string> without_launch_options(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      out.insert(out.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    const size_t eq = a.find('=');
    if (!std::count(std::begin(kLaunchOptions), std::end(kLaunchOptions), a.substr(0, eq))) {
      out.push_back(a);
    } else if (eq == std::string::npos) {
      ++i;  // its value is the next word
    }
  }
  return out;
}

}  // namespace memtx_cli
