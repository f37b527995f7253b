// co4/co4_plugin.cpp: registers "co4" (co-occurrence attention after Adeel 2025; equations in co4_attention.hpp)
// with its options from the builtin schema.
#include <memtx/plugin.h>

#include "co4_attention.hpp"

MEMTX_DEFINE_PLUGIN("co4", "0.1.0")

MEMTX_PLUGIN_REGISTER {
  host->add_variant(memtx::make_variant<memtx::co4::Co4AttentionImpl>(
      "co4",
      "co-occurrence attention (Adeel 2025): learned latent queries, triadic q/k/v modulation loops, latent-to-token "
      "attention; causal prefix form by default, the published whole-sequence form with co4_causal: false",
      memtx::builtin_options({"attention.n_latent", "attention.triadic_loops", "attention.mod_fn", "attention.co4_causal",
                              "attention.disable_flash_attention", "model.max_seq_len", "model.use_flash_attention", "model.attention_bias",
                              "model.attention_dropout"})));
}
