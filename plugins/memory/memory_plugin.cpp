// memory/memory_plugin.cpp: registers "memory", the memory-token cross-attention sublayer (the seeds'
// MemoryTransformer / MemoryAdapter memory layers). The model places it in the blocks chosen by
// memory.memory_layer_placement (after self-attention in block variant A, after the first MLP in B); it is
// not a self-attention variant and cannot be named in attention.attention_variant / attention_list.
#include <memtx/plugin.h>

#include "memory_attention.hpp"

MEMTX_DEFINE_PLUGIN("memory", "0.1.0")

MEMTX_PLUGIN_REGISTER {
  host->add_variant(memtx::make_variant<memtx::memory::MemoryAttentionImpl>(
      "memory",
      "memory-token cross-attention sublayer (placed by memory.memory_layer_placement, not an attention_variant): "
      "learned bank, GQA, low-rank bank and projections, int8/int4 quantised bank (STE), chapter routing with "
      "load-balance, auxiliary and z losses",
      memtx::builtin_options(
          {"memory.num_memory_tokens", "memory.memory_dim", "memory.use_low_rank_memory", "memory.memory_rank",
           "memory.low_rank_mode", "memory.use_low_rank_projections", "memory.projection_rank",
           "memory.use_chapters", "memory.num_chapters", "memory.tokens_per_chapter", "memory.top_k_chapters",
           "memory.routing_strategy_train", "memory.routing_strategy_inference", "memory.routing_window_size",
           "memory.use_load_balance_loss", "memory.load_balance_coefficient", "memory.use_auxiliary_loss",
           "memory.auxiliary_loss_coefficient", "memory.use_z_loss", "memory.z_loss_coefficient",
           "memory.quantize_memory", "memory.memory_quant_bits", "memory.wo_init_zero", "memory.memory_init_std",
           "attention.n_kv_group", "model.attention_dropout"})));
}
