// tests/dist/dist_support.hpp: multi-process tests of lib/dist. The test binary starts its ranks by executing
// itself (posix_spawn of /proc/self/exe: a fresh process, no fork of a process that may already run torch's
// threads) with RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT and MEMTX_DIST_TEST_SCENARIO set; such a
// process runs the scenario before main (dist_worker.cpp), writes a key=value report and exits.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace memtx::test {

// A TCP port that was free a moment ago (bound to port 0 on every address, then closed).
int free_port();

// A socket listening on every address at a free port, closed when destroyed.
class ListeningSocket {
 public:
  ListeningSocket();
  ~ListeningSocket();
  ListeningSocket(const ListeningSocket&) = delete;
  ListeningSocket& operator=(const ListeningSocket&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

struct RankRun {
  int rank = 0;
  bool exited = false;       // exited normally (exit_code is valid)
  int exit_code = -1;
  int signal = 0;            // the signal that ended it, 0 if none
  bool killed_by_test = false;  // still running when the test stopped it
  std::map<std::string, std::string> report;  // from its report file (empty when it wrote none)
  std::string log;           // its stdout and stderr
  std::string get(const std::string& key) const {
    auto it = report.find(key);
    return it == report.end() ? "" : it->second;
  }
};

struct RunSpec {
  std::string scenario;
  int world_size = 2;
  std::vector<int> ranks;           // ranks to start (default: all)
  std::vector<int> wait_for;        // ranks whose exit ends the run, the others are then killed (default: all)
  int port = 0;                     // MASTER_PORT (default: free_port())
  std::map<std::string, std::string> env;  // more variables (MEMTX_DIST_TEST_TIMEOUT_MS, ...)
  double deadline_seconds = 45;     // then every rank still running is killed
};

std::vector<RankRun> run_ranks(const RunSpec& spec);

// Everything about a run for a failure message: each rank's status, report and log.
std::string describe(const std::vector<RankRun>& runs);

}  // namespace memtx::test
