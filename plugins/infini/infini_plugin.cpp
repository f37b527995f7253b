// infini/infini_plugin.cpp: registers "infini" (Infini-attention, recurrent: compressive memory carried
// between segments) with the builtin keys it reads and its own key infini_attention.memory_update.
#include <memtx/option.hpp>
#include <memtx/plugin.h>

#include "infini_attention.hpp"

MEMTX_DEFINE_PLUGIN("infini", "0.1.0")

namespace {

memtx::OptionDef memory_update_option() {
  return memtx::Option("infini_attention.memory_update", memtx::ValueType::String, "linear")
      .choices({"linear", "delta"})
      .by("infini")
      .doc("How a completed segment is written into the compressive memory: linear (M += sigma(K)^T V) or delta "
           "(M += sigma(K)^T (V - sigma(K) M / (sigma(K) z + eps)): only what the memory does not already return; "
           "storing the same keys and values twice leaves M unchanged).");
}

}  // namespace

MEMTX_PLUGIN_REGISTER {
  auto options = memtx::builtin_options(
      {"infini_attention.segment_length", "infini_attention.turn_on_memory", "infini_attention.balance_init_type",
       "infini_attention.balance_act_type", "infini_attention.balance_factor_lr", "infini_attention.logging",
       "infini_attention.logging_interval", "infini_attention.log_grad", "infini_attention.log_segment_acts",
       "infini_attention.detach_every", "attention.n_kv_group", "attention.use_qk_norm", "attention.use_qk_norm_scale",
       "attention.disable_flash_attention", "model.use_rope", "model.rope_theta", "model.rope_dim",
       "model.rope_layout", "model.max_seq_len", "model.use_flash_attention", "model.attention_bias",
       "model.attention_dropout"});
  options.push_back(memory_update_option());
  host->add_variant(memtx::make_variant<memtx::infini::InfiniAttentionImpl>(
      "infini",
      "Infini-attention: causal softmax attention within each segment plus a compressive memory (linear or delta "
      "update, pre-RoPE keys, per-kv-head) read through a learned per-head gate",
      std::move(options), /*recurrent=*/true));
}
