// tests/model/ssm_support.hpp: stand-alone ssm mixers (recurrent_support.hpp's modules) and their parameters spread.
#pragma once
#include <string>
#include <vector>

#include "recurrent_support.hpp"

namespace memtx::test {

using recurrent::copy_common_parameters;
using recurrent::gradients_of;
using recurrent::ModuleUnderTest;
using recurrent::rel_diff;

// tiny_config (hidden 32) with the ssm variant and these overrides; reference initialisation from seed.
inline ModuleUnderTest make_ssm_mixer(std::vector<std::string> overrides = {}, uint64_t seed = 7) {
  return recurrent::make_module("ssm", std::move(overrides), seed);
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

}  // namespace memtx::test
