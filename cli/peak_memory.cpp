// cli/peak_memory.cpp: the peak resident memory from /proc/self (peak_memory.hpp).
#include "peak_memory.hpp"

#include <fstream>
#include <sstream>
#include <string>

namespace memtx_cli {

bool reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  if (!clear) return false;
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

int64_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    int64_t kib = -1;
    fields >> kib;
    return kib >= 0 ? kib * 1024 : -1;
  }
  return -1;
}

}  // namespace memtx_cli
