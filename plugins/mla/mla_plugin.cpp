// mla/mla_plugin.cpp: registers "mla", DeepSeek-V2/V3 multi-head latent attention with a latent KV cache, with
// the keys and rule of mla_keys.cpp and the host keys it reads.
#include <memtx/plugin.h>

#include "mla/mla_keys.hpp"
#include "mla_attention.hpp"

MEMTX_DEFINE_PLUGIN("mla", "0.1.0")

MEMTX_PLUGIN_REGISTER {
  memtx::VariantKeys keys = memtx::mla::mla_keys();
  keys.add(memtx::builtin_options({"attention.disable_flash_attention", "model.use_rope", "model.rope_theta",
                                   "model.rope_dim", "model.rope_layout", "model.max_seq_len",
                                   "model.use_flash_attention", "model.attention_bias", "model.attention_dropout"}));
  host->add_variant(memtx::make_variant<memtx::mla::MlaAttentionImpl>(
      "mla",
      "multi-head latent attention (DeepSeek-V2/V3): compressed queries and key/value latent, shared rotary key, "
      "latent KV cache with absorbed decoding, optional attention sink",
      std::move(keys)));
}
