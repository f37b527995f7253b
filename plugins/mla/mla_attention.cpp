// mla/mla_attention.cpp: multi-head latent attention; equations in mla_attention.hpp.
#include "mla_attention.hpp"

#include <memtx/error.hpp>

#include <cmath>

#include "common/softmax_attention.hpp"

namespace memtx::mla {
namespace {

torch::nn::Linear linear(int64_t in, int64_t out, bool bias) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

std::string shape_text(const torch::Tensor& t) { return c10::str(t.sizes()); }

// A cached tensor must hold the same batch and exactly start_position tokens (along token_dim): otherwise
// the new tokens would get the wrong positions or attend to another sequence's keys.
void check_cached(const torch::Tensor& cached, int64_t token_dim, int64_t batch, int64_t start, const char* name) {
  if (cached.size(0) != batch) {
    throw Error(StatusCode::InvalidArgument, std::string("mla: cached '") + name + "' has batch " +
                                                 std::to_string(cached.size(0)) + ", the input has " + std::to_string(batch));
  }
  if (cached.size(token_dim) != start) {
    throw Error(StatusCode::InvalidArgument, std::string("mla: cached '") + name + "' holds " +
                                                 std::to_string(cached.size(token_dim)) +
                                                 " tokens but the input starts at position " + std::to_string(start));
  }
}

}  // namespace

MlaAttentionImpl::MlaAttentionImpl(const AttentionSpec& spec) : spec_(spec), opt_(MlaOptions::from_spec(spec)) {
  const int64_t D = spec.hidden_dim, H = spec.num_heads;
  const bool bias = spec.qkv_bias;
  if (opt_.q_lora_rank > 0) {
    q_a_proj = register_module("q_a_proj", linear(D, opt_.q_lora_rank, bias));
    q_a_layernorm = register_module("q_a_layernorm", RMSNorm(opt_.q_lora_rank, spec.norm_eps));
    q_b_proj = register_module("q_b_proj", linear(opt_.q_lora_rank, H * opt_.qk_head_dim(), false));
  } else {
    q_proj = register_module("q_proj", linear(D, H * opt_.qk_head_dim(), false));
  }
  kv_a_proj_with_mqa = register_module("kv_a_proj_with_mqa", linear(D, opt_.kv_lora_rank + opt_.rope_dim, bias));
  kv_a_layernorm = register_module("kv_a_layernorm", RMSNorm(opt_.kv_lora_rank, spec.norm_eps));
  kv_b_proj = register_module("kv_b_proj", linear(opt_.kv_lora_rank, H * (opt_.nope_dim + opt_.v_dim), false));
  o_proj = register_module("o_proj", linear(H * opt_.v_dim, D, bias));
  if (opt_.lobo) lobo_log_c = register_parameter("lobo_log_c", torch::full({1}, opt_.lobo_init));
}

std::vector<std::string> MlaAttentionImpl::projection_names() const {
  std::vector<std::string> names;
  if (q_proj) names = {"q_proj"};
  else names = {"q_a_proj", "q_b_proj"};
  for (const char* name : {"kv_a_proj_with_mqa", "kv_b_proj", "o_proj"}) names.emplace_back(name);
  return names;
}

torch::Tensor MlaAttentionImpl::queries(const torch::Tensor& x, int64_t start) {
  const int64_t B = x.size(0), T = x.size(1);
  auto q = q_proj ? q_proj->forward(x) : q_b_proj->forward(q_a_layernorm->forward(q_a_proj->forward(x)));
  q = q.view({B, T, spec_.num_heads, opt_.qk_head_dim()}).transpose(1, 2);
  if (!spec_.use_rope) return q;
  auto q_rope = ops::apply_rope(q.narrow(-1, opt_.nope_dim, opt_.rope_dim), start, spec_.rope_theta, spec_.rope_layout);
  return torch::cat({q.narrow(-1, 0, opt_.nope_dim), q_rope}, -1);
}

MlaAttentionImpl::Latent MlaAttentionImpl::latent(const torch::Tensor& x, int64_t start) {
  auto kv = kv_a_proj_with_mqa->forward(x);  // [B, T, r + d_r]
  Latent lat;
  lat.c_kv = kv_a_layernorm->forward(kv.narrow(-1, 0, opt_.kv_lora_rank));
  lat.k_rope = kv.narrow(-1, opt_.kv_lora_rank, opt_.rope_dim);
  if (spec_.use_rope) {
    lat.k_rope = ops::apply_rope(lat.k_rope.unsqueeze(1), start, spec_.rope_theta, spec_.rope_layout).squeeze(1);
  }
  return lat;
}

std::pair<torch::Tensor, torch::Tensor> MlaAttentionImpl::expand(const Latent& lat) {
  const int64_t B = lat.c_kv.size(0), T = lat.c_kv.size(1), H = spec_.num_heads;
  auto kv = kv_b_proj->forward(lat.c_kv).view({B, T, H, opt_.nope_dim + opt_.v_dim}).transpose(1, 2);
  auto k_rope = lat.k_rope.unsqueeze(1).expand({B, H, T, opt_.rope_dim});
  auto k = torch::cat({kv.narrow(-1, 0, opt_.nope_dim), k_rope}, -1);
  return {k, kv.narrow(-1, opt_.nope_dim, opt_.v_dim)};
}

torch::Tensor MlaAttentionImpl::attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  common::SoftmaxAttentionOptions o;
  // The scale is 1/sqrt(d_n + d_r) whatever q's width (the absorbed form's q is wider): given explicitly.
  o.scale = 1.0 / std::sqrt(double(opt_.qk_head_dim()));
  if (opt_.lobo) o.sink_log_c = lobo_log_c;
  o.dropout = is_training() ? spec_.attention_dropout : 0.0;
  o.allow_fused = opt_.fused;
  // One key/value head shared by every query head (the absorbed form): heads folded into query rows, so the
  // shared keys and values are never copied per head.
  o.fold_shared_kv = true;
  return common::softmax_attention(q, k, v, o);
}

torch::Tensor MlaAttentionImpl::attend_expanded(const torch::Tensor& q, const Latent& lat) {
  auto [k, v] = expand(lat);
  return attend(q, k, v);
}

torch::Tensor MlaAttentionImpl::attend_absorbed(const torch::Tensor& q, const Latent& lat) {
  const int64_t H = spec_.num_heads, r = opt_.kv_lora_rank;
  auto w = kv_b_proj->weight.view({H, opt_.nope_dim + opt_.v_dim, r});
  auto w_uk = w.narrow(1, 0, opt_.nope_dim);         // [H, d_n, r]
  auto w_uv = w.narrow(1, opt_.nope_dim, opt_.v_dim);  // [H, d_v, r]
  auto q_latent = torch::matmul(q.narrow(-1, 0, opt_.nope_dim), w_uk);  // [B, H, Tq, r]
  auto q_abs = torch::cat({q_latent, q.narrow(-1, opt_.nope_dim, opt_.rope_dim)}, -1);
  auto c_kv = lat.c_kv.unsqueeze(1);                                     // [B, 1, Tk, r]
  auto k_abs = torch::cat({c_kv, lat.k_rope.unsqueeze(1)}, -1);          // [B, 1, Tk, r + d_r]
  auto o_latent = attend(q_abs, k_abs, c_kv);                            // [B, H, Tq, r]
  return torch::matmul(o_latent, w_uv.transpose(1, 2));                  // [B, H, Tq, d_v]
}

torch::Tensor MlaAttentionImpl::forward_latent_cache(const torch::Tensor& q, Latent lat, LayerState& state,
                                                     int64_t start) {
  const bool has_past = state.count("c_kv") > 0;
  if (has_past) {
    const auto& c_kv = state.at("c_kv");
    const auto& k_rope = state.at("k_rope");
    check_cached(c_kv, 1, q.size(0), start, "c_kv");
    check_cached(k_rope, 1, q.size(0), start, "k_rope");
    lat.c_kv = torch::cat({c_kv, lat.c_kv}, 1);
    lat.k_rope = torch::cat({k_rope, lat.k_rope}, 1);
  }
  state["c_kv"] = lat.c_kv;
  state["k_rope"] = lat.k_rope;
  // With earlier tokens cached (decoding), work in the latent space; a first chunk expands its own keys.
  return has_past ? attend_absorbed(q, lat) : attend_expanded(q, lat);
}

torch::Tensor MlaAttentionImpl::forward_expanded_cache(const torch::Tensor& q, const Latent& lat, LayerState& state,
                                                       int64_t start) {
  auto [k, v] = expand(lat);
  if (state.count("k")) {
    check_cached(state.at("k"), 2, q.size(0), start, "k");
    check_cached(state.at("v"), 2, q.size(0), start, "v");
    k = torch::cat({state.at("k"), k}, 2);
    v = torch::cat({state.at("v"), v}, 2);
  }
  state["k"] = k;
  state["v"] = v;
  return attend(q, k, v);
}

torch::Tensor MlaAttentionImpl::output(const torch::Tensor& heads) {
  const int64_t B = heads.size(0), T = heads.size(2);
  return o_proj->forward(heads.transpose(1, 2).reshape({B, T, spec_.num_heads * opt_.v_dim}));
}

torch::Tensor MlaAttentionImpl::forward(const torch::Tensor& x, AttentionContext& ctx) {
  if (x.dim() != 3 || x.size(2) != spec_.hidden_dim) {
    throw Error(StatusCode::InvalidArgument, "mla: input must be [batch, seq_len, " + std::to_string(spec_.hidden_dim) +
                                                 "], got " + shape_text(x));
  }
  const int64_t start = ctx.start_position;
  auto q = queries(x, start);
  Latent lat = latent(x, start);
  if (!ctx.state || !ctx.use_cache) return output(attend_expanded(q, lat));
  return output(opt_.latent_cache ? forward_latent_cache(q, std::move(lat), *ctx.state, start)
                                  : forward_expanded_cache(q, lat, *ctx.state, start));
}

}  // namespace memtx::mla
