// tests/model/ssm_support.hpp: building stand-alone ssm mixers (from the plugin, through the registry) for
// the ssm_*.cpp tests, copying parameters between them, and gradients by name.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace memtx::test {

// A mixer with the config it was built from (the spec points into it).
struct SsmMixerUnderTest {
  std::unique_ptr<Config> config;
  std::shared_ptr<AttentionModuleImpl> module;
  AttentionModuleImpl* operator->() const { return module.get(); }
};

// tiny_config (hidden 32) with the ssm variant and these overrides; reference initialisation from seed.
inline SsmMixerUnderTest make_ssm_mixer(std::vector<std::string> overrides = {}, uint64_t seed = 7) {
  overrides.insert(overrides.begin(), "attention.attention_variant=ssm");
  SsmMixerUnderTest m;
  m.config = std::make_unique<Config>(tiny_config(overrides));
  torch::manual_seed(seed);
  m.module = plugin_registry().create("ssm", attention_spec(*m.config, "ssm"));
  m.module->reset_parameters(0.02);
  return m;
}

inline void copy_ssm_parameters(const AttentionModuleImpl& from, AttentionModuleImpl& to) {
  torch::NoGradGuard guard;
  auto src = from.named_parameters();
  for (auto& kv : to.named_parameters()) kv.value().copy_(src[kv.key()]);
}

// Moves the parameters away from the initialisation so that every term matters: larger projections and
// time steps dt spread over about [0.05, 3] (decays from ~1 down to ~e^-40).
inline void spread_ssm_parameters(AttentionModuleImpl& m, uint64_t seed = 11) {
  torch::manual_seed(seed);
  torch::NoGradGuard guard;
  for (auto& kv : m.named_parameters()) {
    const std::string& name = kv.key();
    if (name == "dt_proj.bias") kv.value().uniform_(-3.0, 3.0);
    else if (name == "D") kv.value().normal_(1.0, 0.5);
    else if (name.find("weight") != std::string::npos && name.find("conv1d") == std::string::npos) kv.value().normal_(0.0, 0.1);
    else if (name.find("bias") != std::string::npos) kv.value().normal_(0.0, 0.1);
  }
}

inline std::map<std::string, torch::Tensor> gradients_of(const AttentionModuleImpl& m) {
  std::map<std::string, torch::Tensor> grads;
  for (const auto& kv : m.named_parameters()) {
    if (kv.value().grad().defined()) grads[kv.key()] = kv.value().grad().clone();
  }
  return grads;
}

// max |a - b| / max(1, max |b|): an error relative to the size of the tensor compared.
inline double scaled_diff(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = std::max(1.0, b.abs().max().item<double>());
  return max_abs_diff(a, b) / scale;
}

}  // namespace memtx::test
