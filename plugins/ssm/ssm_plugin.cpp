// ssm/ssm_plugin.cpp: registers "ssm", the Mamba selective state-space mixer (recurrent: carries the conv
// tail and the state h between segments).
#include <memtx/plugin.h>

#include "ssm_mixer.hpp"

MEMTX_DEFINE_PLUGIN("ssm", "0.1.0")

MEMTX_PLUGIN_REGISTER {
  host->add_variant(memtx::make_variant<memtx::ssm::SsmMixerImpl>(
      "ssm",
      "Mamba selective state space mixer: causal depthwise conv, input-dependent dt/B/C, sequential or chunked "
      "scan (CPU loop or CUDA kernel), streaming state",
      memtx::builtin_options({"attention.ssm_mamba_expand", "attention.ssm_conv_kernel_size", "attention.ssm_dt_rank",
                              "attention.ssm_d_state", "attention.ssm_io_bias", "attention.ssm_scan"}), /*recurrent=*/true));
}
