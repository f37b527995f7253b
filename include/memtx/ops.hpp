// memtx/ops.hpp: tensor operations shared by the model and the attention plugins (exported by libmemtx).
//   RoPE: for channel pair i (i < r/2, r = rotated channels) at position p, angle a = p * theta^(-2i/r);
//         (x1, x2) -> (x1 cos a - x2 sin a, x2 cos a + x1 sin a). Layout Half pairs channel i with i + r/2
//         (Llama, Qwen2); Interleaved pairs 2i with 2i + 1 (DeepSeek, GPT-J). Channels >= r pass through.
//         With frequency scaling (RopeScaling, memtx/attention.hpp) the per-pair frequencies change and, for yarn,
//         cos and sin are multiplied by the attention factor (model/rope_scaling.cpp).
//   RMSNorm: y = x / sqrt(mean(x^2) + eps) * g, computed in float32.
//   GQA expansion: kv head g serves query heads g*(H/G) .. (g+1)*(H/G)-1.
#pragma once
#include <torch/torch.h>

#include "memtx/attention.hpp"
#include "memtx/export.h"

namespace memtx::ops {

// x: [B, heads, T, d]; rotates the first rope_dim channels (0 = all) for positions start .. start+T-1.
MEMTX_API torch::Tensor apply_rope(const torch::Tensor& x, int64_t start_position, double theta, RopeLayout layout,
                                   int64_t rope_dim = 0);
// The same with frequency scaling (dynamic scaling reads the sequence length start + T).
MEMTX_API torch::Tensor apply_rope(const torch::Tensor& x, int64_t start_position, double theta, RopeLayout layout,
                                   int64_t rope_dim, const RopeScaling& scaling);

// RoPE's inverse frequencies [r/2] (float32, or float64 when dtype is) and the cos/sin multiplier, for r rotated
// channels and a sequence of seq_len positions so far (read by dynamic scaling only).
struct RopeFrequencies {
  torch::Tensor inv_freq;
  double attention_factor = 1.0;
};
MEMTX_API RopeFrequencies rope_frequencies(double theta, int64_t r, const RopeScaling& scaling, int64_t seq_len,
                                           const torch::TensorOptions& options);

MEMTX_API torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

// [B, G, T, d] -> [B, G * groups, T, d] (each kv head repeated for its query heads).
MEMTX_API torch::Tensor repeat_kv(const torch::Tensor& x, int64_t groups);

// Additive causal mask [Tq, Tk] with 0 where key j <= query i + (Tk - Tq) and -inf elsewhere.
MEMTX_API torch::Tensor causal_mask(int64_t tq, int64_t tk, const torch::TensorOptions& options);

}  // namespace memtx::ops

namespace memtx {

// RMSNorm with a learnable gain ("weight"), as a module.
class MEMTX_API RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
  double eps;
};
TORCH_MODULE(RMSNorm);

}  // namespace memtx
