// co4/co4_plugin.cpp: registers "co4" (co-occurrence attention after Adeel 2025; equations in co4_attention.hpp)
// with the keys of co4_keys.cpp and the host keys it reads.
#include <memtx/plugin.h>

#include "co4/co4_keys.hpp"
#include "co4_attention.hpp"

MEMTX_DEFINE_PLUGIN("co4", "0.1.0")

MEMTX_PLUGIN_REGISTER {
  memtx::VariantKeys keys = memtx::co4::co4_keys();
  keys.add(memtx::builtin_options({"attention.disable_flash_attention", "model.max_seq_len", "model.use_flash_attention",
                                   "model.attention_bias", "model.attention_dropout"}));
  host->add_variant(memtx::make_variant<memtx::co4::Co4AttentionImpl>(
      "co4",
      "co-occurrence attention (Adeel 2025): learned latent queries, triadic q/k/v modulation loops, latent-to-token "
      "attention; causal prefix form by default, the published whole-sequence form with co4_causal: false",
      std::move(keys)));
}
