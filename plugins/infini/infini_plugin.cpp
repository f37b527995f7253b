// infini/infini_plugin.cpp: registers "infini" (Infini-attention, recurrent: compressive memory carried
// between segments) with the keys of infini_keys.cpp and the host keys it reads (segment_length among them).
#include <memtx/plugin.h>

#include "infini/infini_keys.hpp"
#include "infini_attention.hpp"

MEMTX_DEFINE_PLUGIN("infini", "0.1.0")

MEMTX_PLUGIN_REGISTER {
  memtx::VariantKeys keys = memtx::infini::infini_keys();
  keys.add(memtx::builtin_options({"infini_attention.segment_length", "attention.n_kv_group",
                                   "attention.disable_flash_attention", "model.use_rope", "model.rope_theta",
                                   "model.rope_scaling", "model.rope_dim", "model.rope_layout", "model.max_seq_len",
                                   "model.use_flash_attention", "model.attention_bias", "model.attention_dropout"}));
  host->add_variant(memtx::make_variant<memtx::infini::InfiniAttentionImpl>(
      "infini",
      "Infini-attention: causal softmax attention within each segment plus a compressive memory (linear or delta "
      "update, pre-RoPE keys, per-kv-head) read through a learned per-head gate",
      std::move(keys), /*recurrent=*/true));
}
