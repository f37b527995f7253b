// train/grad_utils.cpp: global gradient norm, clipping, and locating non-finite gradients.
#include "train/grad_utils.hpp"

#include <cmath>

#include "memtx/error.hpp"

namespace memtx::train {

double clip_grad_norm(const std::vector<std::pair<std::string, torch::Tensor>>& params, double max_norm) {
  if (max_norm < 0 || std::isnan(max_norm))
    throw Error(StatusCode::InvalidArgument, "clip_grad_norm: max_norm " + std::to_string(max_norm) + " is negative");
  std::vector<torch::Tensor> grads;
  std::vector<torch::Tensor> squares;
  for (const auto& [name, p] : params) {
    const torch::Tensor& g = p.grad();
    if (!g.defined()) continue;
    grads.push_back(g);
    squares.push_back(g.detach().to(grads.front().device(), torch::kFloat64).pow(2).sum());
  }
  if (grads.empty()) return 0.0;
  const double norm = std::sqrt(torch::stack(squares).sum().item<double>());
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
    const double coef = max_norm / (norm + 1e-6);
    torch::NoGradGuard no_grad;
    for (torch::Tensor& g : grads) g.mul_(coef);
  }
  return norm;
}

std::optional<std::string> first_nonfinite_grad(const std::vector<std::pair<std::string, torch::Tensor>>& params) {
  std::vector<torch::Tensor> flags;
  std::vector<size_t> index;
  for (size_t i = 0; i < params.size(); ++i) {
    const torch::Tensor& g = params[i].second.grad();
    if (!g.defined()) continue;
    flags.push_back(torch::isfinite(g.detach()).all());
    index.push_back(i);
  }
  if (flags.empty()) return std::nullopt;
  const torch::Tensor ok = torch::stack(flags).to(torch::kCPU);
  const bool* data = ok.data_ptr<bool>();
  for (size_t k = 0; k < index.size(); ++k)
    if (!data[k]) return params[index[k]].first;
  return std::nullopt;
}

}  // namespace memtx::train
