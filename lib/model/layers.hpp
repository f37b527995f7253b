// model/layers.hpp: the non-attention parts of a block.
//   Norm: RMSNorm y = g * x / sqrt(mean(x^2) + eps), or LayerNorm y = g * (x - mu) / sqrt(var + eps) + b.
//   MLP: SwiGLU down(silu(gate(x)) * up(x)), or GELU down(gelu(up(x))).
#pragma once
#include <torch/torch.h>

#include "memtx/export.h"

namespace memtx {

class MEMTX_API NormImpl : public torch::nn::Module {
 public:
  NormImpl(int64_t dim, double eps, bool rms);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;

 private:
  double eps_;
  bool rms_;
};
TORCH_MODULE(Norm);

class MEMTX_API MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int64_t dim, int64_t hidden, bool swiglu, bool bias);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(Mlp);

}  // namespace memtx
