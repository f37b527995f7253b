// causal/causal_attention.cpp: softmax self-attention; equations in causal_attention.hpp.
#include "causal_attention.hpp"

#include <memtx/error.hpp>
#include <memtx/ops.hpp>
#include <memtx/torch_compat.hpp>

#include <cmath>

namespace memtx::causal {

CausalOptions CausalOptions::from_spec(const AttentionSpec& spec) {
  const Config& c = *spec.config;
  CausalOptions o;
  o.qk_head_dim = c.get_opt_int("attention.n_qk_head_dim").value_or(spec.head_dim);
  o.v_head_dim = c.get_opt_int("attention.n_v_head_dim").value_or(spec.head_dim);
  o.qk_norm = c.get_bool("attention.use_qk_norm");
  o.qk_norm_scale = c.get_bool("attention.use_qk_norm_scale");
  o.softcap = c.get_opt_float("attention.attn_logit_softcapping").value_or(0.0);
  o.lobo = c.get_bool("attention.use_flash_lobo");
  o.lobo_per_head = c.get_bool("attention.use_flash_lobo_per_head");
  o.lobo_const = c.get_bool("attention.use_flash_obo_const");
  o.lobo_log_c = c.get_float("attention.flash_lobo_log_const");
  auto concat = c.get("attention.use_concat_heads");
  o.concat_heads = concat.is_null() ? spec.variant != "infinite" : concat.as_bool();
  o.n_cproj = c.get_opt_int("attention.n_cproj").value_or(1);
  o.fused = spec.use_flash_attention;
  if (o.qk_head_dim < 1 || o.v_head_dim < 1 || o.n_cproj < 1) {
    throw Error(StatusCode::Config, "causal: n_qk_head_dim, n_v_head_dim and n_cproj must be >= 1");
  }
  if (spec.use_rope && (spec.rope_dim > o.qk_head_dim || (spec.rope_dim ? spec.rope_dim : o.qk_head_dim) % 2)) {
    throw Error(StatusCode::Config, "causal: model.rope_dim must be even and <= the query/key head dim " +
                                        std::to_string(o.qk_head_dim));
  }
  if (spec.num_kv_heads < 1 || spec.num_heads % spec.num_kv_heads != 0) {
    throw Error(StatusCode::Config, "causal: num_heads " + std::to_string(spec.num_heads) +
                                        " is not divisible by the kv heads " + std::to_string(spec.num_kv_heads));
  }
  return o;
}

CausalAttentionImpl::CausalAttentionImpl(const AttentionSpec& spec) : spec_(spec), opt_(CausalOptions::from_spec(spec)) {
  const int64_t D = spec.hidden_dim, H = spec.num_heads, G = spec.num_kv_heads;
  auto linear = [](int64_t in, int64_t out, bool bias) {
    return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
  };
  q_proj = register_module("q_proj", linear(D, H * opt_.qk_head_dim, spec.qkv_bias));
  k_proj = register_module("k_proj", linear(D, G * opt_.qk_head_dim, spec.qkv_bias));
  v_proj = register_module("v_proj", linear(D, G * opt_.v_head_dim, spec.qkv_bias));
  const int64_t o_in = opt_.concat_heads ? H * opt_.v_head_dim : opt_.v_head_dim;
  for (int64_t i = 0; i < opt_.n_cproj; ++i) {
    const std::string name = i == 0 ? "o_proj" : "o_proj_" + std::to_string(i);
    o_projs.push_back(register_module(name, linear(o_in, D, spec.out_bias)));
  }
  if (opt_.qk_norm) {
    q_norm = register_module("q_norm", RMSNorm(opt_.qk_head_dim, spec.norm_eps));
    k_norm = register_module("k_norm", RMSNorm(opt_.qk_head_dim, spec.norm_eps));
  }
  if (opt_.qk_norm_scale) {
    qk_scale = register_parameter("qk_scale", torch::full({1}, 1.0 / std::sqrt(double(opt_.qk_head_dim))));
  }
  if (opt_.lobo) {
    auto init = torch::full({opt_.lobo_per_head ? H : 1}, opt_.lobo_log_c);
    lobo_log_c = opt_.lobo_const ? register_buffer("lobo_log_c", init) : register_parameter("lobo_log_c", init);
  }
}

std::vector<std::string> CausalAttentionImpl::projection_names() const {
  std::vector<std::string> names{"q_proj", "k_proj", "v_proj"};
  for (size_t i = 0; i < o_projs.size(); ++i) names.push_back(i == 0 ? "o_proj" : "o_proj_" + std::to_string(i));
  return names;
}

bool CausalAttentionImpl::fused_path_allowed() const {
  return opt_.fused && compat::has_fused_sdpa() && opt_.softcap == 0.0 && !opt_.lobo;
}

torch::Tensor CausalAttentionImpl::attend(const torch::Tensor& q_in, const torch::Tensor& k_in,
                                          const torch::Tensor& v_in, bool fused) {
  const int64_t groups = spec_.num_heads / spec_.num_kv_heads;
  const int64_t tq = q_in.size(2), tk = k_in.size(2);
  const double default_scale = 1.0 / std::sqrt(double(opt_.qk_head_dim));
  const double dropout = is_training() ? spec_.attention_dropout : 0.0;
  if (fused) {
    // The fused kernel divides by sqrt(d): fold a learned scale into q so every path computes the same s.
    // Grouped k/v go in as they are (SDPA's GQA mode reads each kv head for its group of query heads).
    auto q = opt_.qk_norm_scale ? q_in * (qk_scale / default_scale) : q_in;
    if (tq == tk) return compat::sdpa(q, k_in, v_in, std::nullopt, /*is_causal=*/true, dropout);
    auto keep = torch::ones({tq, tk}, q.options().dtype(torch::kBool)).tril(tk - tq);
    return compat::sdpa(q, k_in, v_in, keep, /*is_causal=*/false, dropout);
  }
  auto k = ops::repeat_kv(k_in, groups);
  auto v = ops::repeat_kv(v_in, groups);
  auto scores = torch::matmul(q_in, k.transpose(-2, -1));
  scores = opt_.qk_norm_scale ? scores * qk_scale : scores * default_scale;
  if (opt_.softcap > 0.0) scores = opt_.softcap * torch::tanh(scores / opt_.softcap);
  scores = scores + ops::causal_mask(tq, tk, scores.options());
  torch::Tensor probs;
  if (opt_.lobo) {
    // Sink column: logit log_c, value 0, visible to every query; real keys keep the j <= i mask.
    auto sink = lobo_log_c.to(scores.scalar_type()).view({1, -1, 1, 1}).expand({scores.size(0), scores.size(1), tq, 1});
    probs = torch::softmax(torch::cat({sink, scores}, -1), -1).narrow(-1, 1, tk);
  } else {
    probs = torch::softmax(scores, -1);
  }
  if (dropout > 0.0) probs = torch::dropout(probs, dropout, true);
  return torch::matmul(probs, v);
}

torch::Tensor CausalAttentionImpl::output_projection(const torch::Tensor& heads) {
  const int64_t B = heads.size(0), T = heads.size(2);
  torch::Tensor in = opt_.concat_heads ? heads.transpose(1, 2).reshape({B, T, -1})
                                       : heads.sum(1);  // shared projection, summed over heads
  torch::Tensor out = o_projs[0]->forward(in);
  for (size_t i = 1; i < o_projs.size(); ++i) out = out + o_projs[i]->forward(in);
  return out;
}

torch::Tensor CausalAttentionImpl::forward(const torch::Tensor& x, AttentionContext& ctx) {
  const int64_t B = x.size(0), T = x.size(1);
  const int64_t H = spec_.num_heads, G = spec_.num_kv_heads;
  auto q = q_proj->forward(x).view({B, T, H, opt_.qk_head_dim}).transpose(1, 2);
  auto k = k_proj->forward(x).view({B, T, G, opt_.qk_head_dim}).transpose(1, 2);
  auto v = v_proj->forward(x).view({B, T, G, opt_.v_head_dim}).transpose(1, 2);
  if (opt_.qk_norm) {
    q = q_norm->forward(q);
    k = k_norm->forward(k);
  }
  if (spec_.use_rope) {
    q = ops::apply_rope(q, ctx.start_position, spec_.rope_theta, spec_.rope_layout, spec_.rope_dim);
    k = ops::apply_rope(k, ctx.start_position, spec_.rope_theta, spec_.rope_layout, spec_.rope_dim);
  }
  if (ctx.state && ctx.use_cache) {
    auto& st = *ctx.state;
    if (st.count("k")) {
      k = torch::cat({st["k"], k}, 2);
      v = torch::cat({st["v"], v}, 2);
    }
    st["k"] = k;
    st["v"] = v;
  }
  return output_projection(attend(q, k, v, fused_path_allowed()));
}

}  // namespace memtx::causal
