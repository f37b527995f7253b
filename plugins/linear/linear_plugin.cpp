// linear/linear_plugin.cpp: registers "linear" (causal linear attention, recurrent: carries (S, z) between
// segments) with its own key attention.linear_chunk_size.
#include <memtx/plugin.h>

#include "linear_attention.hpp"

MEMTX_DEFINE_PLUGIN("linear", "0.1.0")

namespace {

memtx::OptionDef chunk_size_option() {
  memtx::OptionDef def;
  def.key = "attention.linear_chunk_size";
  def.type = memtx::ValueType::Int;
  def.default_value = memtx::Value(64);
  def.min = 1;
  def.doc = "Chunk length of causal linear attention: masked quadratic attention inside each chunk, the running "
            "state (S, z) between chunks. Changes speed and memory, not the result.";
  def.used_by = "linear";
  return def;
}

}  // namespace

MEMTX_PLUGIN_REGISTER {
  auto options = memtx::builtin_options({"attention.n_kv_group"});
  options.push_back(chunk_size_option());
  auto desc = memtx::make_variant<memtx::linear::LinearAttentionImpl>(
      "linear",
      "causal linear attention o_t = phi(q_t) S_t / (phi(q_t) z_t + eps), phi = ELU + 1: chunked computation, GQA, "
      "streaming state (S, z)",
      std::move(options));
  desc.recurrent = true;
  host->add_variant(std::move(desc));
}
