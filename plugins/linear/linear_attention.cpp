// linear/linear_attention.cpp: construction, state handling and forward pass of causal linear attention
// (equations in linear_attention.hpp and linear_scan.hpp).
#include "linear_attention.hpp"

#include <memtx/error.hpp>

#include "common/qkvo_projections.hpp"
#include "linear_scan.hpp"

namespace memtx::linear {

LinearAttentionImpl::LinearAttentionImpl(const AttentionSpec& spec) : spec_(spec) {
  if (!spec.config) throw Error(StatusCode::InvalidArgument, "linear: the attention spec carries no config");
  chunk_ = spec.config->get_int("attention.linear_chunk_size");
  if (chunk_ < 1) throw Error(StatusCode::Config, "linear: attention.linear_chunk_size must be >= 1, got " + std::to_string(chunk_));
  if (spec.num_heads < 1 || spec.num_kv_heads < 1 || spec.num_heads % spec.num_kv_heads != 0) {
    throw Error(StatusCode::Config, "linear: model.num_heads " + std::to_string(spec.num_heads) +
                                        " is not divisible by the kv heads (attention.n_kv_group) " +
                                        std::to_string(spec.num_kv_heads));
  }
  if (spec.head_dim < 1) throw Error(StatusCode::Config, "linear: the head dim must be >= 1");
  auto proj = common::register_qkvo_projections(*this, spec);
  q_proj = proj.q;
  k_proj = proj.k;
  v_proj = proj.v;
  o_proj = proj.o;
}

LayerState LinearAttentionImpl::initial_state(int64_t batch, const torch::TensorOptions& options) {
  const int64_t G = spec_.num_kv_heads, d = spec_.head_dim;
  auto opts = options.dtype(options.dtype() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32);
  return {{"S", torch::zeros({batch, G, d, d}, opts)}, {"z", torch::zeros({batch, G, d}, opts)}};
}

torch::Tensor LinearAttentionImpl::state_or_zeros(const LayerState* state, const std::string& key,
                                                  const std::vector<int64_t>& shape,
                                                  const torch::TensorOptions& options) const {
  if (!state || !state->count(key)) return torch::zeros(shape, options);
  const auto& t = state->at(key);
  if (!t.defined() || t.sizes() != c10::IntArrayRef(shape)) {
    throw Error(StatusCode::InvalidArgument, "linear: state '" + key + "' has shape " +
                                                 (t.defined() ? c10::str(t.sizes()) : std::string("undefined")) +
                                                 ", expected " + c10::str(c10::IntArrayRef(shape)) +
                                                 (key == "S" ? " (batch, kv heads, d_k, d_v)" : " (batch, kv heads, d_k)"));
  }
  return t.to(options);
}

torch::Tensor LinearAttentionImpl::forward(const torch::Tensor& x, AttentionContext& ctx) {
  if (x.dim() != 3 || x.size(2) != spec_.hidden_dim) {
    throw Error(StatusCode::InvalidArgument, "linear: input must be [batch, time, " +
                                                 std::to_string(spec_.hidden_dim) + "], got " + c10::str(x.sizes()));
  }
  const int64_t B = x.size(0), T = x.size(1), H = spec_.num_heads, G = spec_.num_kv_heads, d = spec_.head_dim;
  // Sums over the whole stream: accumulate in float32 at least.
  const auto type = x.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  auto opts = x.options().dtype(type);
  auto phi = [](const torch::Tensor& u) { return torch::elu(u) + 1.0; };
  auto q = phi(q_proj->forward(x).view({B, T, H, d}).transpose(1, 2).to(type));
  auto k = phi(k_proj->forward(x).view({B, T, G, d}).transpose(1, 2).to(type));
  auto v = v_proj->forward(x).view({B, T, G, d}).transpose(1, 2).to(type);
  auto S0 = state_or_zeros(ctx.state, "S", {B, G, d, d}, opts);
  auto z0 = state_or_zeros(ctx.state, "z", {B, G, d}, opts);
  auto result = linear_attention_chunked(q, k, v, S0, z0, chunk_);
  if (ctx.state) {
    (*ctx.state)["S"] = result.S;
    (*ctx.state)["z"] = result.z;
  }
  auto heads = result.out.to(x.scalar_type()).transpose(1, 2).reshape({B, T, H * d});
  return o_proj->forward(heads);
}

}  // namespace memtx::linear
