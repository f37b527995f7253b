// model/memory_layout.cpp: placement and sharing of memory sublayers (rules in memory_layout.hpp).
#include "model/memory_layout.hpp"

#include <algorithm>

#include "memtx/error.hpp"

namespace memtx {
namespace {

[[noreturn]] void bad(const std::string& message) { throw Error(StatusCode::Config, message); }

std::vector<bool> placed_blocks(const MemoryLayoutOptions& o) {
  const int64_t L = o.num_layers;
  std::vector<bool> on(static_cast<size_t>(L), false);
  if (!o.enabled || o.placement == "none") return on;
  if (o.placement == "all") {
    std::fill(on.begin(), on.end(), true);
  } else if (o.placement == "first_k" || o.placement == "last_k") {
    if (o.k < 1 || o.k > L)
      bad("memory.memory_layer_k = " + std::to_string(o.k) + " must be in [1, model.num_layers = " +
          std::to_string(L) + "] for memory.memory_layer_placement " + o.placement);
    for (int64_t i = 0; i < o.k; ++i) on[static_cast<size_t>(o.placement == "first_k" ? i : L - o.k + i)] = true;
  } else if (o.placement == "every_n") {
    if (o.n < 1) bad("memory.memory_layer_n = " + std::to_string(o.n) + " must be >= 1");
    for (int64_t i = 0; i < L; i += o.n) on[static_cast<size_t>(i)] = true;
  } else if (o.placement == "custom") {
    if (o.indices.empty())
      bad("memory.memory_layer_placement is custom but memory.memory_layer_indices is empty; list the blocks");
    for (int64_t i : o.indices) {
      if (i < 0 || i >= L)
        bad("memory.memory_layer_indices lists block " + std::to_string(i) + ", outside [0, model.num_layers = " +
            std::to_string(L) + ")");
      if (on[static_cast<size_t>(i)]) bad("memory.memory_layer_indices lists block " + std::to_string(i) + " twice");
      on[static_cast<size_t>(i)] = true;
    }
  } else {
    bad("memory.memory_layer_placement: unknown placement '" + o.placement +
        "' (expected all, first_k, last_k, every_n, custom or none)");
  }
  return on;
}

}  // namespace

MemoryLayoutOptions MemoryLayoutOptions::from_config(const Config& c) {
  MemoryLayoutOptions o;
  o.num_layers = c.get_int("model.num_layers");
  o.enabled = memory_layers_enabled(c);
  o.placement = c.get_string("memory.memory_layer_placement");
  o.k = c.get_int("memory.memory_layer_k");
  o.n = c.get_int("memory.memory_layer_n");
  o.indices = c.get_int_list("memory.memory_layer_indices");
  o.sharing = c.get_string("memory.memory_sharing");
  o.sharing_k = c.get_int("memory.memory_sharing_k");
  return o;
}

std::vector<int64_t> MemoryLayout::memory_layers() const {
  std::vector<int64_t> out;
  for (size_t i = 0; i < bank_of_layer.size(); ++i)
    if (bank_of_layer[i] >= 0) out.push_back(static_cast<int64_t>(i));
  return out;
}

MemoryLayout memory_layout(const MemoryLayoutOptions& o) {
  if (o.num_layers < 0) bad("model.num_layers must be >= 0");
  if (o.sharing != "shared" && o.sharing != "per_layer" && o.sharing != "every_k_layers")
    bad("memory.memory_sharing: unknown sharing '" + o.sharing + "' (expected shared, per_layer or every_k_layers)");
  if (o.sharing == "every_k_layers" && o.sharing_k < 1)
    bad("memory.memory_sharing_k = " + std::to_string(o.sharing_k) + " must be >= 1");
  const std::vector<bool> on = placed_blocks(o);
  MemoryLayout layout;
  layout.bank_of_layer.assign(on.size(), -1);
  int64_t j = 0;  // position among the memory blocks
  for (size_t i = 0; i < on.size(); ++i) {
    if (!on[i]) continue;
    const int64_t bank = o.sharing == "shared" ? 0 : o.sharing == "per_layer" ? j : j / o.sharing_k;
    layout.bank_of_layer[i] = bank;
    layout.num_banks = std::max(layout.num_banks, bank + 1);
    ++j;
  }
  return layout;
}

}  // namespace memtx
