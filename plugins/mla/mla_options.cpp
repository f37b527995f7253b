// mla/mla_options.cpp: reads and checks the mla variant's options (attention.mla_*, use_mla_lobo).
#include <memtx/error.hpp>

#include "mla_attention.hpp"

namespace memtx::mla {
namespace {

void require_positive(int64_t value, const std::string& what) {
  if (value < 1) throw Error(StatusCode::Config, "mla: " + what + " must be >= 1, got " + std::to_string(value));
}

}  // namespace

MlaOptions MlaOptions::from_spec(const AttentionSpec& spec) {
  if (!spec.config) throw Error(StatusCode::InvalidArgument, "mla: the attention spec carries no config");
  const Config& c = *spec.config;
  MlaOptions o;
  o.q_lora_rank = c.get_opt_int("attention.mla_q_lora_rank").value_or(0);
  o.kv_lora_rank = c.get_opt_int("attention.mla_latent_dim").value_or(spec.hidden_dim / 4);
  o.rope_dim = c.get_int("attention.mla_rotary_dim");
  o.nope_dim = c.get_opt_int("attention.mla_nope_head_dim").value_or(spec.head_dim);
  o.v_dim = c.get_opt_int("attention.mla_v_head_dim").value_or(spec.head_dim);
  o.lobo = c.get_bool("attention.use_mla_lobo");
  o.lobo_init = c.get_float("attention.mla_lobo_init");
  o.latent_cache = c.get_string("attention.mla_cache") == "latent";
  o.fused = spec.use_flash_attention;

  require_positive(spec.num_heads, "model.num_heads");
  if (c.get_opt_int("attention.mla_q_lora_rank")) require_positive(o.q_lora_rank, "attention.mla_q_lora_rank");
  require_positive(o.kv_lora_rank, c.is_set("attention.mla_latent_dim") ? "attention.mla_latent_dim"
                                                                        : "attention.mla_latent_dim (hidden_dim / 4)");
  require_positive(o.nope_dim, "attention.mla_nope_head_dim");
  require_positive(o.v_dim, "attention.mla_v_head_dim");
  if (o.rope_dim < 2 || o.rope_dim % 2 != 0) {
    throw Error(StatusCode::Config, "mla: attention.mla_rotary_dim must be even and >= 2 (RoPE rotates pairs), got " +
                                        std::to_string(o.rope_dim));
  }
  return o;
}

}  // namespace memtx::mla
