// causal/causal_plugin.cpp: registers "causal" (softmax self-attention) and its alias "infinite" (the seeds'
// Infinite Head Attention: same module, heads summed through a shared projection unless use_concat_heads).
#include <memtx/plugin.h>

#include "causal_attention.hpp"

MEMTX_DEFINE_PLUGIN("causal", "0.1.0")

namespace {

std::vector<memtx::OptionDef> causal_options() {
  return memtx::builtin_options(
      {"attention.disable_flash_attention", "attention.n_kv_group", "attention.use_qk_norm",
       "attention.use_qk_norm_scale", "attention.attn_logit_softcapping", "attention.use_flash_lobo",
       "attention.use_flash_lobo_per_head", "attention.use_flash_obo_const", "attention.flash_lobo_log_const",
       "attention.n_qk_head_dim", "attention.n_v_head_dim", "attention.n_cproj", "attention.use_concat_heads", "model.use_rope", "model.rope_theta", "model.rope_dim", "model.rope_layout", 
       "model.max_seq_len", "model.use_flash_attention", "model.attention_bias", "model.attention_dropout"});
}

}  // namespace

MEMTX_PLUGIN_REGISTER {
  using memtx::causal::CausalAttentionImpl;
  host->add_variant(memtx::make_variant<CausalAttentionImpl>(
      "causal", "softmax self-attention: GQA, RoPE (half/interleaved), QK-norm, soft-capping, Flash LoBo sink",
      causal_options()));
  host->add_variant(memtx::make_variant<CausalAttentionImpl>(
      "infinite", "Infinite Head Attention: causal attention with decoupled head dims, heads summed by default",
      causal_options()));
}
