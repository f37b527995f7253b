// tests/model/memory_support.hpp: models with memory sublayers and stand-alone memory layers (the "memory"
// variant with its own bank) for the memory_* tests.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "memtx/memory.hpp"
#include "test_support.hpp"

namespace memtx::test::memory {

// tiny_config (hidden 32, 4 heads, 2 layers, vocab 97) with memory layers on (16 memory vectors), then overrides.
inline Config memory_config(std::vector<std::string> overrides = {}) {
  const std::vector<std::string> helper = {"memory.vanilla_mode=false", "memory.num_memory_tokens=16"};
  const std::vector<std::string> caller = overrides;
  overrides.insert(overrides.begin(), helper.begin(), helper.end());
  Config c = tiny_config(overrides);
  reset_unread_helper_keys(c, helper, caller);  // the bank size of a test that switches memory off
  return c;
}

struct LayerUnderTest {
  std::unique_ptr<Config> config;
  std::shared_ptr<MemoryLayerImpl> layer;
  std::shared_ptr<MemoryBankImpl> bank;
  MemoryLayerImpl* operator->() const { return layer.get(); }
};

// A memory layer built through the registry from memory_config(overrides), with a fresh bank bound;
// projections N(0, std) (Wo too: wo_init_zero off unless overridden), bank N(0, memory_init_std).
inline LayerUnderTest make_layer(std::vector<std::string> overrides = {}, uint64_t seed = 3, double std = 0.3) {
  overrides.insert(overrides.begin(), "memory.wo_init_zero=false");
  LayerUnderTest m;
  m.config = std::make_unique<Config>(memory_config(overrides));
  AttentionSpec spec = ModelSpec::from_config(*m.config, plugin_registry()).layer_spec(0);
  spec.variant = "memory";
  spec.config = m.config.get();
  m.layer = std::dynamic_pointer_cast<MemoryLayerImpl>(plugin_registry().create("memory", spec));
  if (!m.layer) throw std::runtime_error("the memory variant does not implement MemoryLayerImpl");
  m.bank = m.layer->make_bank();
  m.layer->bind_bank(m.bank);
  torch::manual_seed(seed);
  m.layer->reset_parameters(std);
  m.bank->reset_parameters();
  return m;
}

// Parameters of a module by name (float64 copies).
inline std::map<std::string, torch::Tensor> params64(torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& kv : m.named_parameters()) out[kv.key()] = kv.value().detach().to(torch::kFloat64).clone();
  return out;
}

}  // namespace memtx::test::memory
