// train/host_memory.hpp: keeping freed host memory in the process while training on the CPU.
// LibTorch's CPU tensors come from malloc. glibc serves a block of at least its mmap threshold (dynamic, at
// most 32 MiB) with a fresh mmap and gives it back with munmap on free, and it returns free memory at the top
// of the heap to the kernel once that exceeds the trim threshold. A training step frees and allocates the
// same large buffers every step (logits and their gradient, B*T*V floats = 32 MiB for 8 x 256 tokens and a
// 4096 vocabulary; attention scores; activations), so without this each step takes fresh pages from the
// kernel: a page fault and a zeroed page per 4 KiB, measured at 10-15% of a 4 x 256 model's CPU step
// (bench/train_step_bench.cpp).
// retain_freed_host_memory() makes glibc serve every block from the heap (M_MMAP_MAX = 0) and keep up to
// 2 GiB of free heap top (M_TRIM_THRESHOLD), so freed blocks are reused by the next step, as a caching
// allocator would. Process-wide and lasting: the resident size stays at its high-water mark. Call it once
// when a training run starts; other allocators (jemalloc, tcmalloc) and other C libraries are left alone.
#pragma once

#include "memtx/export.h"

namespace memtx::train {

// Returns true when the settings were applied (glibc), false where there is nothing to tune.
MEMTX_API bool retain_freed_host_memory();

}  // namespace memtx::train
