// ssm/ssm_plugin.cpp: registers "ssm", the Mamba selective state-space mixer (recurrent: carries the conv
// tail and the state h between segments).
#include <memtx/plugin.h>

#include "ssm_mixer.hpp"

MEMTX_DEFINE_PLUGIN("ssm", "0.1.0")

namespace {

std::vector<memtx::OptionDef> ssm_options() {
  static const char* keys[] = {"attention.ssm_mamba_expand", "attention.ssm_conv_kernel_size", "attention.ssm_dt_rank",
                               "attention.ssm_d_state",      "attention.ssm_io_bias",          "attention.ssm_scan"};
  std::vector<memtx::OptionDef> defs;
  for (const char* key : keys) {
    if (const auto* def = memtx::Schema::builtin().find(key)) defs.push_back(*def);
  }
  return defs;
}

}  // namespace

MEMTX_PLUGIN_REGISTER {
  memtx::VariantDesc desc;
  desc.name = "ssm";
  desc.description = "Mamba selective state space mixer: causal depthwise conv, input-dependent dt/B/C, "
                     "sequential or chunked CPU scan, streaming state";
  desc.options = ssm_options();
  desc.recurrent = true;
  desc.factory = [](const memtx::AttentionSpec& spec) -> std::shared_ptr<memtx::AttentionModuleImpl> {
    return std::make_shared<memtx::ssm::SsmMixerImpl>(spec);
  };
  host->add_variant(std::move(desc));
}
