// tests/model/test_support.hpp: a registry with the project's plugins from the build tree, and small configs.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "memtx/config.hpp"
#include "model/hf_import.hpp"
#include "model/setting_use.hpp"
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

// Whether every one of these attention variants is registered (a plugin may be left out of a build).
inline bool has_variants(const std::vector<std::string>& names) {
  for (const auto& n : names)
    if (!plugin_registry().find(n)) return false;
  return true;
}

// Keys a helper set for its own convenience (helper_overrides) that the final config would not read go back to
// their defaults, so that a test switching a feature off (no MLP, no evaluation, an ssm model) is not refused for
// a setting it never made; the caller's own overrides are kept, ignored or not.
inline void reset_unread_helper_keys(Config& c, const std::vector<std::string>& helper_overrides,
                                     const std::vector<std::string>& caller_overrides) {
  auto key_of = [](const std::string& kv) { return kv.substr(0, kv.find('=')); };
  std::set<std::string> helper_keys;
  for (const auto& kv : helper_overrides) helper_keys.insert(key_of(kv));
  for (const auto& kv : caller_overrides) helper_keys.erase(key_of(kv));
  for (const auto& ignored : ignored_settings(c, &plugin_registry(), SettingScope::All))
    if (helper_keys.count(ignored.key)) c.set(ignored.key, c.schema().find(ignored.key)->default_value);
}

// c with every key it sets but would not read back at its default: for a test comparing a model with the same
// model with a feature switched off (memory, LoRA), whose keys then describe nothing.
inline Config drop_unread_settings(Config c) {
  for (const auto& ignored : ignored_settings(c, &plugin_registry(), SettingScope::All))
    c.set(ignored.key, c.schema().find(ignored.key)->default_value);
  return c;
}

// A tiny model config (vanilla, CPU, float32) with overrides "key=value".
inline Config tiny_config(const std::vector<std::string>& overrides = {}) {
  Config c(plugin_registry().schema());
  const std::vector<std::string> tiny = {"model.hidden_dim=32", "model.num_heads=4", "model.num_layers=2",
                                         "model.intermediate_dim=64", "model.vocab_size=97",
                                         "memory.vanilla_mode=true", "model.device=cpu"};
  for (const auto& kv : tiny) c.apply_override(kv);
  for (const auto& kv : overrides) c.apply_override(kv);
  reset_unread_helper_keys(c, tiny, overrides);
  return c;
}

// A tiny model with larger weights than the default (init_std 0.2): its top logits are well apart, so a 1e-6
// difference between two ways of computing them cannot change an argmax, and its memories matter.
inline Transformer model_with(std::vector<std::string> overrides) {
  overrides.push_back("model.init_std=0.2");
  return Transformer(tiny_config(overrides), plugin_registry());
}

// The spec of layer 0 in a model whose every layer is `variant` (the config's own layer list aside, so that its
// variant keys count as read); a.config still points at c.
inline AttentionSpec attention_spec(const Config& c, const std::string& variant) {
  Config as_layer = c;
  as_layer.set("attention.attention_list", Value());
  as_layer.set("attention.attention_variant", variant);
  ModelSpec spec = ModelSpec::from_config(as_layer, plugin_registry());
  AttentionSpec a = spec.layer_spec(0);
  a.variant = variant;
  a.config = &c;
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
