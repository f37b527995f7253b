// common/softmax_attention.hpp: the causal softmax attention core shared by the causal, infini and mla plugins,
// on already projected, position-encoded heads.
//   q [B, H, tq, d], k [B, G, tk, d], v [B, G, tk, d_v], G dividing H: query head h reads kv head h / (H/G).
//   The queries are the last tq of the tk positions: query i sits at key position i + tk - tq and sees key j
//   when j <= i + tk - tq (the offset causal mask; tq == tk is the ordinary causal mask).
//   s_ij = scale * q_i . k_j, scale = the nominal scale (1/sqrt(d) unless given) or a learned scalar tensor.
//   Sliding window (window w > 0): query i sees key j only when also j > i + tk - tq - w (itself and the w - 1
//   keys before it), as Mistral / Qwen2's sliding-window layers.
//   Soft-capping (softcap c > 0): s = c * tanh(s / c), before the mask.
//   Attention sink (Flash LoBo): o_i = sum_{j visible} e^{s_ij} v_j / (e^{log_c} + sum_{j visible} e^{s_ij}),
//   log_c one per head or one shared; done as an extra softmax column of logit log_c and value 0 that every
//   query sees, the real keys keeping the mask.
//   o_i = sum_j p_ij v_j with p = softmax_j(s) (dropout on p while training), output [B, H, tq, d_v].
// Two paths, equal up to rounding:
//   fused: the scaled-dot-product attention kernel (compat::sdpa; grouped k/v in its GQA mode, never copied).
//     It scales by the nominal scale; a learned scale is folded into q as q * (learned / nominal).
//     Only without soft-capping and sink (fused_allowed).
//   explicit: k, v repeated to H heads (ops::repeat_kv), scores, mask, softmax, times v.
// fold_shared_kv: with one kv head (G == 1) and H > 1, the heads are folded into query rows (row h * tq + i of a
//   single head) so the shared k and v are never copied per head (mla's absorbed decoding form).
#pragma once
#include <torch/torch.h>

namespace memtx::common {

struct SoftmaxAttentionOptions {
  double scale = 0.0;           // the nominal scale of q.k; 0 = 1/sqrt(d) with d = q.size(-1)
  torch::Tensor learned_scale;  // [1] when defined: replaces the nominal scale (attention.use_qk_norm_scale)
  double softcap = 0.0;         // 0 = off
  torch::Tensor sink_log_c;     // [H] or [1] when defined: the attention sink's logit
  double dropout = 0.0;         // dropout probability on p; pass 0 outside training
  bool allow_fused = true;      // the variant's option (use_flash_attention)
  bool fold_shared_kv = false;
  int64_t window = 0;           // sliding window in keys (0 = the whole causal past)
};

// Whether the fused path computes these options: allowed, available in this LibTorch, no soft-capping, no sink.
bool fused_allowed(const SoftmaxAttentionOptions& options);

// The attention on the path `fused` picks (true needs fused_allowed(options)) -> [B, H, tq, d_v].
torch::Tensor softmax_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                const SoftmaxAttentionOptions& options, bool fused);

// The attention on the fused path where fused_allowed(options), the explicit one otherwise.
inline torch::Tensor softmax_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                       const SoftmaxAttentionOptions& options) {
  return softmax_attention(q, k, v, options, fused_allowed(options));
}

}  // namespace memtx::common
