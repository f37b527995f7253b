// co4/co4_attention.cpp: the CO4 module (options, parameters, forward, decoding cache); equations in
// co4_attention.hpp. Cache entries in LayerState: "k", "v" (final keys/values [B, H, T, d]) and, per pass i,
// "token_sum_k.<i>", "token_sum_v.<i>" ([B, D] float32 or float64 sums of the keys/values entering pass i).
#include "co4_attention.hpp"

#include <memtx/error.hpp>

#include <cmath>

#include "co4_readout.hpp"

namespace memtx::co4 {
namespace {

std::string shape_text(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

std::string sum_key(const char* which, int64_t pass) {
  return std::string("token_sum_") + which + "." + std::to_string(pass);
}

}  // namespace

Co4Options Co4Options::from_spec(const AttentionSpec& spec) {
  if (!spec.config) throw Error(StatusCode::InvalidArgument, "co4: the attention spec carries no config");
  const Config& c = *spec.config;
  Co4Options o;
  o.n_latent = c.get_int("attention.n_latent");
  o.triadic_loops = c.get_int("attention.triadic_loops");
  o.mod_fn = parse_mod_fn(c.get_string("attention.mod_fn"));
  o.causal = c.get_bool("attention.co4_causal");
  o.fused = spec.use_flash_attention;
  if (o.n_latent < 1) {
    throw Error(StatusCode::Config, "co4: attention.n_latent must be >= 1, got " + std::to_string(o.n_latent));
  }
  if (o.triadic_loops < 0) {
    throw Error(StatusCode::Config,
                "co4: attention.triadic_loops must be >= 0, got " + std::to_string(o.triadic_loops));
  }
  if (spec.num_heads < 1 || spec.hidden_dim % spec.num_heads != 0) {
    throw Error(StatusCode::Config, "co4: model.hidden_dim " + std::to_string(spec.hidden_dim) +
                                        " is not divisible by model.num_heads " + std::to_string(spec.num_heads) +
                                        " (co4 splits its hidden_dim-wide keys into heads; model.head_dim does "
                                        "not apply)");
  }
  return o;
}

Co4AttentionImpl::Co4AttentionImpl(const AttentionSpec& spec) : spec_(spec), opt_(Co4Options::from_spec(spec)) {
  const int64_t D = spec.hidden_dim;
  auto linear = [D](bool bias) { return torch::nn::Linear(torch::nn::LinearOptions(D, D).bias(bias)); };
  q_proj = register_module("q_proj", linear(spec.qkv_bias));
  k_proj = register_module("k_proj", linear(spec.qkv_bias));
  v_proj = register_module("v_proj", linear(spec.qkv_bias));
  o_proj = register_module("o_proj", linear(spec.out_bias));
  latent_queries = register_parameter("latent_queries", torch::randn({opt_.n_latent, D}) / std::sqrt(double(D)));
  spec_.config = nullptr;  // read once above; the Config need not outlive the module
}

void Co4AttentionImpl::reset_parameters(double init_std) {
  AttentionModuleImpl::reset_parameters(init_std);
  torch::NoGradGuard no_grad;
  latent_queries.normal_(0.0, 1.0 / std::sqrt(double(spec_.hidden_dim)));
}

std::vector<std::string> Co4AttentionImpl::projection_names() const { return {"q_proj", "k_proj", "v_proj", "o_proj"}; }

void Co4AttentionImpl::check_input(const torch::Tensor& x) const {
  if (x.dim() != 3 || x.size(2) != spec_.hidden_dim || x.size(1) < 1) {
    throw Error(StatusCode::InvalidArgument, "co4: expected input [batch, tokens >= 1, " +
                                                 std::to_string(spec_.hidden_dim) + "], got " + shape_text(x));
  }
}

TokenSums Co4AttentionImpl::carried_sums(const LayerState& state, int64_t batch) const {
  TokenSums sums;
  auto cached = state.find("k");
  if (cached == state.end()) return sums;
  if (cached->second.size(0) != batch) {
    throw Error(StatusCode::InvalidArgument, "co4: the cached state holds batch " +
                                                 std::to_string(cached->second.size(0)) + ", the input has " +
                                                 std::to_string(batch));
  }
  sums.count = cached->second.size(2);
  for (int64_t i = 0; i < opt_.triadic_loops; ++i) {
    auto k = state.find(sum_key("k", i)), v = state.find(sum_key("v", i));
    if (k == state.end() || v == state.end()) {
      throw Error(StatusCode::InvalidArgument, "co4: the cached state lacks '" + sum_key("k", i) +
                                                   "' (made by a layer with fewer attention.triadic_loops?)");
    }
    sums.k.push_back(k->second);
    sums.v.push_back(v->second);
  }
  return sums;
}

torch::Tensor Co4AttentionImpl::forward(const torch::Tensor& x, AttentionContext& ctx) {
  check_input(x);
  const bool streaming = ctx.state && ctx.use_cache;
  if (streaming && !opt_.causal) {
    throw Error(StatusCode::InvalidArgument,
                "co4: attention.co4_causal=false (the published whole-sequence form) cannot decode with a cache: "
                "every position's output depends on the whole sequence");
  }
  const int64_t B = x.size(0), T = x.size(1), D = spec_.hidden_dim, H = spec_.num_heads;
  const TokenSums before = streaming ? carried_sums(*ctx.state, B) : TokenSums{};
  auto modulated = triadic_loops(latent_queries, k_proj->forward(x), v_proj->forward(x), opt_.triadic_loops,
                                 opt_.mod_fn, opt_.causal, before);
  auto split_heads = [&](const torch::Tensor& t) { return t.reshape({B, T, H, D / H}).transpose(1, 2); };
  auto keys = split_heads(modulated.k), values = split_heads(modulated.v);
  if (streaming) {
    auto& st = *ctx.state;
    if (st.count("k")) {
      keys = torch::cat({st["k"], keys}, 2);
      values = torch::cat({st["v"], values}, 2);
    }
    st["k"] = keys;
    st["v"] = values;
    for (int64_t i = 0; i < opt_.triadic_loops; ++i) {
      st[sum_key("k", i)] = modulated.sums.k[i];
      st[sum_key("v", i)] = modulated.sums.v[i];
    }
  }
  auto queries = q_proj->forward(modulated.q);  // [B, T or 1, L, D]
  if (opt_.causal && queries.size(1) != T) queries = queries.expand({B, T, queries.size(2), D});  // no passes
  const double dropout = is_training() ? spec_.attention_dropout : 0.0;
  auto out = o_proj->forward(latent_readout(queries, keys, values, opt_.causal, opt_.fused, dropout));
  return opt_.causal ? out : out.expand({B, T, D}).contiguous();
}

}  // namespace memtx::co4
