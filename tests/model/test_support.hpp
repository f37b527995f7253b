// tests/model/test_support.hpp: a registry with the project's plugins from the build tree, and small configs.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "memtx/config.hpp"
#include "model/hf_import.hpp"
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

// Runs check_fixture_json on the fixture folder hf/<name> and asserts the fixtures README's tolerances
// (modules <= 1e-4, logits <= 2e-4), the number of compared modules and "ok". Returns the report, or null
// when the fixtures are absent (the test is then skipped).
inline nlohmann::json expect_fixture_passes(const std::string& name, size_t expected_modules) {
  const std::string dir = std::string(MEMTX_FIXTURES_DIR) + "/hf/" + name;
  if (!std::filesystem::exists(dir)) {
    [&] { GTEST_SKIP() << "fixtures not found at " << dir; }();
    return nullptr;
  }
  auto report = nlohmann::json::parse(check_fixture_json(dir, plugin_registry()));
  size_t modules = 0;
  bool saw_logits = false;
  for (const auto& t : report["tensors"]) {
    const double err = t["max_abs_error"].get<double>();
    const std::string tensor = t["name"].get<std::string>();
    if (tensor == "logits") {
      saw_logits = true;
      EXPECT_LE(err, 2e-4) << name << " logits";
    } else {
      ++modules;
      EXPECT_LE(err, 1e-4) << name << " " << tensor;
    }
    std::cout << "[fixture] " << name << " " << tensor << " max abs error " << err << "\n";
  }
  EXPECT_TRUE(saw_logits);
  EXPECT_EQ(modules, expected_modules);
  EXPECT_TRUE(report["ok"].get<bool>());
  return report;
}

}  // namespace memtx::test
