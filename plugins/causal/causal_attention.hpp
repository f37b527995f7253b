// causal/causal_attention.hpp: softmax self-attention (the default variant, also registered as "infinite").
//   q = x Wq (H heads of d_qk), k = x Wk, v = x Wv (G kv heads; query head h reads kv head h / (H/G)).
//   Optional per-head RMS QK-norm (learnable gain) before RoPE; RoPE on q, k (half or interleaved layout,
//   first rope_dim channels).
//   s = q.k * scale, scale = 1/sqrt(d_qk), or a learned scalar when use_qk_norm_scale.
//   Soft-capping: s = c * tanh(s / c) before the mask.
//   Flash LoBo (attention sink): o_i = sum_{j<=i} e^{s_ij} v_j / (e^{log_c} + sum_{j<=i} e^{s_ij}); done as an
//   extra key column with logit log_c that every query sees, real keys keeping the j <= i mask.
//   Output: heads concatenated into Wo, or (use_concat_heads: false, the "infinite" default) one shared
//   projection d_v -> D applied to every head and summed; n_cproj > 1 sums that many output projections.
//   Fast path: the fused scaled-dot-product attention when the options allow it; the explicit path otherwise.
//   The attention itself (scale, soft-capping, sink, both paths) is the shared core, common/softmax_attention.hpp.
//   Key/value cache (ctx.state "k", "v", post-RoPE): every key so far, or with a sliding window of W only the
//   last W - 1 (all a next query can see), so a windowed layer's cache stays flat on long streams.
#pragma once
#include <memtx/attention.hpp>
#include <memtx/ops.hpp>

#include "common/softmax_attention.hpp"

namespace memtx::causal {

struct CausalOptions {
  int64_t qk_head_dim = 0;
  int64_t v_head_dim = 0;
  bool qk_norm = false;
  bool qk_norm_scale = false;
  double softcap = 0.0;  // 0 = off
  int64_t window = 0;    // sliding window in keys, 0 = off (attention.sliding_window on this layer)
  bool lobo = false;
  bool lobo_per_head = false;
  bool lobo_const = false;
  double lobo_log_c = 0.0;
  bool concat_heads = true;
  int64_t n_cproj = 1;
  bool fused = true;
  static CausalOptions from_spec(const AttentionSpec& spec);
};

class CausalAttentionImpl : public AttentionModuleImpl {
 public:
  explicit CausalAttentionImpl(const AttentionSpec& spec);
  torch::Tensor forward(const torch::Tensor& x, AttentionContext& ctx) override;
  std::vector<std::string> projection_names() const override;
  std::vector<std::string> no_decay_parameters() const override { return {"lobo_log_c", "qk_scale"}; }

  // The attention core on already projected, position-encoded tensors: q [B,H,Tq,dqk], k [B,G,Tk,dqk],
  // v [B,G,Tk,dv] -> [B,H,Tq,dv]. Query i sits at key position i + (Tk - Tq). `fused` picks the path.
  torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, bool fused);
  bool fused_path_allowed() const;

  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr};
  std::vector<torch::nn::Linear> o_projs;
  RMSNorm q_norm{nullptr}, k_norm{nullptr};  // per-head QK-norm (gain over the head dim)
  torch::Tensor qk_scale, lobo_log_c;

 private:
  common::SoftmaxAttentionOptions attention_options() const;  // this layer's scale, softcap, sink, dropout
  torch::Tensor output_projection(const torch::Tensor& heads);  // [B,H,T,dv] -> [B,T,D]
  AttentionSpec spec_;
  CausalOptions opt_;
};
TORCH_MODULE(CausalAttention);

}  // namespace memtx::causal
