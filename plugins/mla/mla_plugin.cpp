// mla/mla_plugin.cpp: registers "mla", DeepSeek-V2/V3 multi-head latent attention with a latent KV cache.
#include <memtx/plugin.h>

#include "mla_attention.hpp"

MEMTX_DEFINE_PLUGIN("mla", "0.1.0")

MEMTX_PLUGIN_REGISTER {
  host->add_variant(memtx::make_variant<memtx::mla::MlaAttentionImpl>(
      "mla",
      "multi-head latent attention (DeepSeek-V2/V3): compressed queries and key/value latent, shared rotary key, "
      "latent KV cache with absorbed decoding, optional attention sink",
      memtx::builtin_options({"attention.mla_latent_dim", "attention.mla_rotary_dim", "attention.mla_q_lora_rank",
                              "attention.mla_nope_head_dim", "attention.mla_v_head_dim", "attention.use_mla_lobo",
                              "attention.mla_lobo_init", "attention.mla_cache", "attention.disable_flash_attention",
                              "model.use_rope", "model.rope_theta", "model.rope_dim", "model.rope_layout", 
                              "model.max_seq_len", "model.use_flash_attention", "model.attention_bias", "model.attention_dropout"})));
}
