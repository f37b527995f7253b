// train/grad_utils.cpp: global gradient norm, clipping, and locating non-finite gradients.
#include "train/grad_utils.hpp"

#include <cmath>

#include "memtx/error.hpp"

namespace memtx::train {
namespace {

// The type a gradient's norm is reduced in: its own for float32/float64, float32 for 16-bit types.
c10::optional<torch::ScalarType> reduction_type(const torch::Tensor& g) {
  if (g.scalar_type() == torch::kFloat32 || g.scalar_type() == torch::kFloat64) return c10::nullopt;
  return torch::kFloat32;
}

}  // namespace

double clip_grad_norm(const std::vector<std::pair<std::string, torch::Tensor>>& params, double max_norm,
                      const GradNormReduction& over_ranks) {
  if (max_norm < 0 || std::isnan(max_norm))
    throw Error(StatusCode::InvalidArgument, "clip_grad_norm: max_norm " + std::to_string(max_norm) + " is negative");
  std::vector<torch::Tensor> grads;
  std::vector<torch::Tensor> norms;  // per-tensor 2-norms, as float64 scalars on the first gradient's device
  for (const auto& [name, p] : params) {
    const torch::Tensor& g = p.grad();
    if (!g.defined()) continue;
    grads.push_back(g);
    // One read pass, no float64 copy of the gradient: float32/float64 reduce in their own type (vectorised
    // partial sums); 16-bit gradients reduce in float32 so a norm above their range stays finite.
    norms.push_back(at::linalg_vector_norm(g.detach(), 2, c10::nullopt, false, reduction_type(g))
                        .to(grads.front().device(), torch::kFloat64));
  }
  double squares = 0.0;
  if (!grads.empty()) {
    const torch::Tensor n = torch::stack(norms);
    squares = (n * n).sum().item<double>();
    if (!std::isfinite(squares)) {
      // Rare: an Inf/NaN gradient, or finite values whose squares overflow the reduction type; float64 tells
      // them apart (the slow path copies each gradient to float64).
      std::vector<torch::Tensor> each;
      for (const torch::Tensor& g : grads)
        each.push_back(g.detach().to(grads.front().device(), torch::kFloat64).pow(2).sum());
      squares = torch::stack(each).sum().item<double>();
    }
  }
  if (over_ranks) squares = over_ranks(squares);
  if (grads.empty() && !over_ranks) return 0.0;
  const double norm = std::sqrt(squares);
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
    const double coef = max_norm / (norm + 1e-6);
    torch::NoGradGuard no_grad;
    for (torch::Tensor& g : grads) g.mul_(coef);
  }
  return norm;
}

// Screening by sums: a NaN or an Inf anywhere makes the sum NaN or Inf, so a finite sum proves a float32/float64
// gradient finite with one read pass and no temporary. A non-finite sum (a bad value, or an overflow of large
// finite values) is settled by the exact element-wise test; 16-bit gradients always take the exact test.
std::optional<std::string> first_nonfinite_grad(const std::vector<std::pair<std::string, torch::Tensor>>& params) {
  std::vector<torch::Tensor> flags;
  std::vector<size_t> index;
  std::vector<bool> exact;
  for (size_t i = 0; i < params.size(); ++i) {
    const torch::Tensor& g = params[i].second.grad();
    if (!g.defined()) continue;
    const bool wide = g.scalar_type() == torch::kFloat32 || g.scalar_type() == torch::kFloat64;
    flags.push_back(wide ? torch::isfinite(g.detach().sum()) : torch::isfinite(g.detach()).all());
    index.push_back(i);
    exact.push_back(!wide);
  }
  if (flags.empty()) return std::nullopt;
  const torch::Tensor ok = torch::stack(flags).to(torch::kCPU);
  const bool* data = ok.data_ptr<bool>();
  for (size_t k = 0; k < index.size(); ++k) {
    if (data[k]) continue;
    if (exact[k] || !torch::isfinite(params[index[k]].second.grad().detach()).all().item<bool>())
      return params[index[k]].first;
  }
  return std::nullopt;
}

}  // namespace memtx::train
