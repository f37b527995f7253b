// cli/peak_memory.hpp: this process's peak resident memory (Linux /proc/self), so a command can report the
// peak of each of its phases: reset_peak_rss() starts a new high-water mark (writing 5 to
// /proc/self/clear_refs), peak_rss_bytes() reads it (VmHWM of /proc/self/status). Elsewhere, or when the
// kernel refuses, reset does nothing (the peak then covers the process so far) and the peak is -1.
#pragma once
#include <cstdint>

namespace memtx_cli {

// True when the high-water mark was reset.
bool reset_peak_rss();
int64_t peak_rss_bytes();

}  // namespace memtx_cli
