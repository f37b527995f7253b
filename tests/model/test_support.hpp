// tests/model/test_support.hpp: a registry with the project's plugins from the build tree, and small configs.
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "memtx/config.hpp"
#include "model/transformer.hpp"
#include "plugin/registry.hpp"

namespace memtx::test {

inline Registry& plugin_registry() {
  static Registry* registry = [] {
    auto* r = new Registry();
    r->load_directory(std::string(MEMTX_BUILD_DIR) + "/plugins");
    return r;
  }();
  return *registry;
}

// A tiny model config (vanilla, CPU, float32) with overrides "key=value".
inline Config tiny_config(const std::vector<std::string>& overrides = {}) {
  Config c(plugin_registry().schema());
  for (const char* kv : {"model.hidden_dim=32", "model.num_heads=4", "model.num_layers=2", "model.intermediate_dim=64",
                         "model.vocab_size=97", "model.max_seq_len=128", "memory.vanilla_mode=true", "model.device=cpu"}) {
    c.apply_override(kv);
  }
  for (const auto& kv : overrides) c.apply_override(kv);
  return c;
}

inline AttentionSpec attention_spec(const Config& c, const std::string& variant) {
  ModelSpec spec = ModelSpec::from_config(c, plugin_registry());
  AttentionSpec a = spec.layer_spec(0);
  a.variant = variant;
  return a;
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

}  // namespace memtx::test
