// ssm/ssm_plugin.cpp: registers "ssm", the Mamba selective state-space mixer (recurrent: carries the conv
// tail and the state h between segments), with the keys of ssm_keys.cpp.
#include <memtx/plugin.h>

#include "ssm/ssm_keys.hpp"
#include "ssm_mixer.hpp"

MEMTX_DEFINE_PLUGIN("ssm", "0.1.0")

MEMTX_PLUGIN_REGISTER {
  host->add_variant(memtx::make_variant<memtx::ssm::SsmMixerImpl>(
      "ssm",
      "Mamba selective state space mixer: causal depthwise conv, input-dependent dt/B/C, sequential or chunked scan "
      "(CPU loop or CUDA kernel), streaming state",
      memtx::ssm::ssm_keys(), /*recurrent=*/true));
}
