// causal/causal_plugin.cpp: registers "causal" (softmax self-attention) and its alias "infinite" (the seeds'
// Infinite Head Attention: same module, heads summed through a shared projection unless use_concat_heads),
// with the keys of causal_keys.cpp and the host keys they read.
#include <memtx/plugin.h>

#include "causal/causal_keys.hpp"
#include "causal_attention.hpp"

MEMTX_DEFINE_PLUGIN("causal", "0.1.0")

namespace {

memtx::VariantKeys causal_variant_keys() {
  memtx::VariantKeys keys = memtx::causal::causal_keys();
  keys.add(memtx::builtin_options({"attention.disable_flash_attention", "attention.n_kv_group", "model.use_rope",
                                   "model.rope_theta", "model.rope_dim", "model.rope_layout", "model.rope_scaling",
                                   "model.max_seq_len",
                                   "model.use_flash_attention", "model.attention_bias", "model.attention_dropout"}));
  return keys;
}

}  // namespace

MEMTX_PLUGIN_REGISTER {
  using memtx::causal::CausalAttentionImpl;
  host->add_variant(memtx::make_variant<CausalAttentionImpl>(
      "causal", "softmax self-attention: GQA, RoPE (half/interleaved), QK-norm, soft-capping, Flash LoBo sink",
      causal_variant_keys()));
  host->add_variant(memtx::make_variant<CausalAttentionImpl>(
      "infinite", "Infinite Head Attention: causal attention with decoupled head dims, heads summed by default",
      causal_variant_keys()));
}
