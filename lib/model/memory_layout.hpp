// model/memory_layout.hpp: which blocks get a memory sublayer and which bank each one reads, as a pure
// function of the memory keys (so the map is testable without building a model).
//   Memory blocks exist when memory.vanilla_mode is false, memory.use_memory_adapter (or
//   use_both_memory_and_lora) is true and the placement is not none. Over L = model.num_layers blocks:
//     all       every block
//     first_k   blocks 0 .. k-1                 (k = memory.memory_layer_k)
//     last_k    blocks L-k .. L-1
//     every_n   blocks 0, n, 2n, ... < L        (n = memory.memory_layer_n)
//     custom    memory.memory_layer_indices (in block order)
//     none      no block
//   Sharing, over the memory blocks in block order j = 0, 1, ...:
//     shared          every memory block reads bank 0
//     per_layer       memory block j reads bank j
//     every_k_layers  memory block j reads bank j / k (consecutive groups of k = memory.memory_sharing_k)
#pragma once
#include <string>
#include <vector>

#include "memtx/config.hpp"
#include "memtx/export.h"

namespace memtx {

struct MEMTX_API MemoryLayoutOptions {
  int64_t num_layers = 0;
  bool enabled = true;  // false: no memory blocks whatever the placement (vanilla_mode, adapter off)
  std::string placement = "all";
  int64_t k = 5;
  int64_t n = 3;
  std::vector<int64_t> indices;  // custom placement
  std::string sharing = "shared";
  int64_t sharing_k = 2;

  static MemoryLayoutOptions from_config(const Config& config);
};

struct MEMTX_API MemoryLayout {
  std::vector<int64_t> bank_of_layer;  // one entry per block: the bank index, or -1 (no memory sublayer)
  int64_t num_banks = 0;

  bool has_memory(int64_t layer) const { return bank_of_layer.at(static_cast<size_t>(layer)) >= 0; }
  std::vector<int64_t> memory_layers() const;  // the memory blocks in order
};

// Error(Config) naming the key for an unknown placement or sharing, k or n < 1, k > num_layers, or a custom
// index outside [0, num_layers) or listed twice.
MEMTX_API MemoryLayout memory_layout(const MemoryLayoutOptions& options);

}  // namespace memtx
