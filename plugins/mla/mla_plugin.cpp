// mla/mla_plugin.cpp: registers "mla", DeepSeek-V2/V3 multi-head latent attention with a latent KV cache.
#include <memtx/plugin.h>

#include "mla_attention.hpp"

MEMTX_DEFINE_PLUGIN("mla", "0.1.0")

namespace {

std::vector<memtx::OptionDef> mla_options() {
  static const char* keys[] = {"attention.mla_latent_dim",    "attention.mla_rotary_dim",  "attention.mla_q_lora_rank",
                               "attention.mla_nope_head_dim", "attention.mla_v_head_dim",  "attention.use_mla_lobo",
                               "attention.mla_lobo_init",     "attention.mla_cache",       "attention.disable_flash_attention"};
  std::vector<memtx::OptionDef> defs;
  for (const char* key : keys) {
    if (const auto* def = memtx::Schema::builtin().find(key)) defs.push_back(*def);
  }
  return defs;
}

}  // namespace

MEMTX_PLUGIN_REGISTER {
  memtx::VariantDesc desc;
  desc.name = "mla";
  desc.description =
      "multi-head latent attention (DeepSeek-V2/V3): compressed queries and key/value latent, shared rotary key, "
      "latent KV cache with absorbed decoding, optional attention sink";
  desc.options = mla_options();
  desc.factory = [](const memtx::AttentionSpec& spec) -> std::shared_ptr<memtx::AttentionModuleImpl> {
    return std::make_shared<memtx::mla::MlaAttentionImpl>(spec);
  };
  host->add_variant(std::move(desc));
}
