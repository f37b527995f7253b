// linear/linear_plugin.cpp: registers "linear" (causal linear attention, recurrent: carries (S, z) between
// segments) with its own key attention.linear_chunk_size.
#include <memtx/option.hpp>
#include <memtx/plugin.h>

#include "linear_attention.hpp"

MEMTX_DEFINE_PLUGIN("linear", "0.1.0")

namespace {

memtx::OptionDef chunk_size_option() {
  return memtx::Option("attention.linear_chunk_size", memtx::ValueType::Int, 64)
      .min(1)
      .by("linear")
      .doc("Chunk length of causal linear attention: masked quadratic attention inside each chunk, the running "
           "state (S, z) between chunks. Changes speed and memory, not the result.");
}

}  // namespace

MEMTX_PLUGIN_REGISTER {
  auto options = memtx::builtin_options({"attention.n_kv_group", "model.attention_bias"});
  options.push_back(chunk_size_option());
  host->add_variant(memtx::make_variant<memtx::linear::LinearAttentionImpl>(
      "linear",
      "causal linear attention o_t = phi(q_t) S_t / (phi(q_t) z_t + eps), phi = ELU + 1: chunked computation, GQA, "
      "streaming state (S, z)",
      std::move(options), /*recurrent=*/true));
}
