// train/host_memory.cpp: glibc malloc settings that keep freed memory for reuse (see host_memory.hpp).
#include "train/host_memory.hpp"

#include <climits>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace memtx::train {

bool retain_freed_host_memory() {
#if defined(__GLIBC__)
  // mallopt returns 1 on success. Order: first stop new mmaps, then raise the trim threshold (setting it
  // also turns off glibc's dynamic adjustment of both thresholds).
  const bool no_mmap = mallopt(M_MMAP_MAX, 0) == 1;
  const bool keep_top = mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1;
  return no_mmap && keep_top;
#else
  return false;
#endif
}

}  // namespace memtx::train
