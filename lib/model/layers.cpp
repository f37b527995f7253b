// model/layers.cpp: Norm and MLP (equations in layers.hpp).
#include "model/layers.hpp"

#include "memtx/ops.hpp"

namespace memtx {

NormImpl::NormImpl(int64_t dim, double eps, bool rms) : eps_(eps), rms_(rms) {
  weight = register_parameter("weight", torch::ones({dim}));
  if (!rms) bias = register_parameter("bias", torch::zeros({dim}));
}

torch::Tensor NormImpl::forward(const torch::Tensor& x) {
  if (rms_) return ops::rms_norm(x, weight, eps_);
  return torch::layer_norm(x, {x.size(-1)}, weight, bias, eps_);
}

MlpImpl::MlpImpl(int64_t dim, int64_t hidden, bool swiglu, bool bias) {
  auto linear = [bias](int64_t in, int64_t out) { return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias)); };
  if (swiglu) gate_proj = register_module("gate_proj", linear(dim, hidden));
  up_proj = register_module("up_proj", linear(dim, hidden));
  down_proj = register_module("down_proj", linear(hidden, dim));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  if (gate_proj) return down_proj->forward(torch::silu(gate_proj->forward(x)) * up_proj->forward(x));
  return down_proj->forward(torch::gelu(up_proj->forward(x)));
}

}  // namespace memtx
