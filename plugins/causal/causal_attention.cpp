// causal/causal_attention.cpp: softmax self-attention; equations in causal_attention.hpp.
#include "causal_attention.hpp"

#include <memtx/error.hpp>
#include <memtx/ops.hpp>

#include <algorithm>
#include <cmath>

#include "common/qkvo_projections.hpp"

namespace memtx::causal {

CausalOptions CausalOptions::from_spec(const AttentionSpec& spec) {
  const Config& c = *spec.config;
  CausalOptions o;
  o.qk_head_dim = c.get_opt_int("attention.n_qk_head_dim").value_or(spec.head_dim);
  o.v_head_dim = c.get_opt_int("attention.n_v_head_dim").value_or(spec.head_dim);
  o.qk_norm = c.get_bool("attention.use_qk_norm");
  o.qk_norm_scale = c.get_bool("attention.use_qk_norm_scale");
  o.softcap = c.get_opt_float("attention.attn_logit_softcapping").value_or(0.0);
  if (const auto window = c.get_opt_int("attention.sliding_window")) {
    const auto layers = c.get_int_list("attention.sliding_window_layers");
    const bool here = c.get("attention.sliding_window_layers").is_null() ||
                      std::find(layers.begin(), layers.end(), spec.layer_index) != layers.end();
    if (here) o.window = *window;
  }
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
  const int64_t D = spec.hidden_dim, H = spec.num_heads;
  auto qkv = common::register_qkv_projections(*this, spec, opt_.qk_head_dim, opt_.v_head_dim);
  q_proj = qkv.q;
  k_proj = qkv.k;
  v_proj = qkv.v;
  const int64_t o_in = opt_.concat_heads ? H * opt_.v_head_dim : opt_.v_head_dim;
  for (int64_t i = 0; i < opt_.n_cproj; ++i) {
    const std::string name = i == 0 ? "o_proj" : "o_proj_" + std::to_string(i);
    o_projs.push_back(common::register_linear(*this, name, o_in, D, spec.out_bias));
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

common::SoftmaxAttentionOptions CausalAttentionImpl::attention_options() const {
  common::SoftmaxAttentionOptions o;  // nominal scale: 1/sqrt(d_qk), d_qk being q's last dim
  if (opt_.qk_norm_scale) o.learned_scale = qk_scale;
  o.softcap = opt_.softcap;
  o.window = opt_.window;
  if (opt_.lobo) o.sink_log_c = lobo_log_c;
  o.dropout = is_training() ? spec_.attention_dropout : 0.0;
  o.allow_fused = opt_.fused;
  return o;
}

bool CausalAttentionImpl::fused_path_allowed() const { return common::fused_allowed(attention_options()); }

torch::Tensor CausalAttentionImpl::attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                          bool fused) {
  return common::softmax_attention(q, k, v, attention_options(), fused);
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
    q = ops::apply_rope(q, ctx.start_position, spec_.rope_theta, spec_.rope_layout, spec_.rope_dim, spec_.rope_scaling);
    k = ops::apply_rope(k, ctx.start_position, spec_.rope_theta, spec_.rope_layout, spec_.rope_dim, spec_.rope_scaling);
  }
  if (ctx.state && ctx.use_cache) {
    auto& st = *ctx.state;
    if (st.count("k")) {
      k = torch::cat({st["k"], k}, 2);
      v = torch::cat({st["v"], v}, 2);
    }
    if (opt_.window > 0 && k.size(2) > opt_.window - 1) {
      // A sliding window: the next query sees at most window - 1 earlier keys, so the cache keeps those only
      // (copied, so the longer tensor's storage is freed): memory stays flat however long the sequence.
      const int64_t keep = opt_.window - 1, from = k.size(2) - keep;
      st["k"] = k.narrow(2, from, keep).contiguous();
      st["v"] = v.narrow(2, from, keep).contiguous();
    } else {
      st["k"] = k;
      st["v"] = v;
    }
  }
  return output_projection(attend(q, k, v, fused_path_allowed()));
}

}  // namespace memtx::causal
