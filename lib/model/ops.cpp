// model/ops.cpp: RoPE, RMSNorm, GQA expansion and causal masks (equations in memtx/ops.hpp).
#include "memtx/ops.hpp"

#include <cmath>

#include "memtx/error.hpp"

namespace memtx::ops {

torch::Tensor apply_rope(const torch::Tensor& x, int64_t start_position, double theta, RopeLayout layout,
                         int64_t rope_dim) {
  return apply_rope(x, start_position, theta, layout, rope_dim, RopeScaling{});
}

torch::Tensor apply_rope(const torch::Tensor& x, int64_t start_position, double theta, RopeLayout layout,
                         int64_t rope_dim, const RopeScaling& scaling) {
  const int64_t d = x.size(-1);
  const int64_t r = rope_dim > 0 ? rope_dim : d;
  if (r > d || r % 2 != 0) {
    throw Error(StatusCode::InvalidArgument,
                "rope: rotated channels " + std::to_string(r) + " must be even and <= head dim " + std::to_string(d));
  }
  const int64_t t = x.size(-2);
  // Angles in float32 (as the reference implementations) unless x itself is float64.
  const auto angle_type = x.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  auto fopts = torch::TensorOptions().dtype(angle_type).device(x.device());
  const RopeFrequencies freq = rope_frequencies(theta, r, scaling, start_position + t, fopts);  // [r/2]
  auto pos = torch::arange(start_position, start_position + t, fopts);                          // [T]
  auto angles = torch::outer(pos, freq.inv_freq);                                               // [T, r/2]
  auto cos = angles.cos(), sin = angles.sin();
  if (freq.attention_factor != 1.0) {
    cos = cos * freq.attention_factor;
    sin = sin * freq.attention_factor;
  }
  cos = cos.to(x.scalar_type());
  sin = sin.to(x.scalar_type());
  auto rot = x.narrow(-1, 0, r);
  torch::Tensor out;
  if (layout == RopeLayout::Half) {
    auto x1 = rot.narrow(-1, 0, r / 2);
    auto x2 = rot.narrow(-1, r / 2, r / 2);
    out = torch::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1);
  } else {
    auto pairs = rot.unflatten(-1, {r / 2, 2});
    auto x1 = pairs.select(-1, 0);
    auto x2 = pairs.select(-1, 1);
    out = torch::stack({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1).flatten(-2);
  }
  if (r == d) return out;
  return torch::cat({out, x.narrow(-1, r, d - r)}, -1);
}

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  auto xf = x.to(torch::kFloat32);
  auto normed = xf * torch::rsqrt(xf.pow(2).mean(-1, true) + eps);
  return weight * normed.to(x.scalar_type());
}

torch::Tensor repeat_kv(const torch::Tensor& x, int64_t groups) {
  if (groups == 1) return x;
  return x.repeat_interleave(groups, 1);
}

torch::Tensor causal_mask(int64_t tq, int64_t tk, const torch::TensorOptions& options) {
  auto keep = torch::ones({tq, tk}, options.dtype(torch::kBool)).tril(tk - tq);
  return torch::zeros({tq, tk}, options).masked_fill(keep.logical_not(), -std::numeric_limits<double>::infinity());
}

}  // namespace memtx::ops

namespace memtx {

RMSNormImpl::RMSNormImpl(int64_t dim, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) { return ops::rms_norm(x, weight, eps); }

}  // namespace memtx
