// linear/linear_plugin.cpp: registers "linear" (causal linear attention, recurrent: carries (S, z) between
// segments) with the key of linear_keys.cpp and the host keys it reads.
#include <memtx/plugin.h>

#include "linear/linear_keys.hpp"
#include "linear_attention.hpp"

MEMTX_DEFINE_PLUGIN("linear", "0.1.0")

MEMTX_PLUGIN_REGISTER {
  memtx::VariantKeys keys = memtx::linear::linear_keys();
  keys.add(memtx::builtin_options({"attention.n_kv_group", "model.attention_bias"}));
  host->add_variant(memtx::make_variant<memtx::linear::LinearAttentionImpl>(
      "linear",
      "causal linear attention o_t = phi(q_t) S_t / (phi(q_t) z_t + eps), phi = ELU + 1: chunked computation, GQA, "
      "streaming state (S, z)",
      std::move(keys), /*recurrent=*/true));
}
