// model/finite_weights.cpp: the NaN / Inf check of loaded weights (finite_weights.hpp).
#include "model/finite_weights.hpp"

#include "memtx/error.hpp"

namespace memtx {
namespace {

void check_one(const std::string& name, const torch::Tensor& t, const std::string& origin) {
  if (!t.defined() || !t.is_floating_point() || t.numel() == 0) return;
  torch::NoGradGuard no_grad;
  if (torch::isfinite(t).all().item<bool>()) return;
  const int64_t nan = torch::isnan(t).sum().item<int64_t>();
  const int64_t inf = torch::isinf(t).sum().item<int64_t>();
  throw Error(StatusCode::Io, origin + ": tensor '" + name + "' holds " + std::to_string(nan) + " NaN and " +
                                  std::to_string(inf) + " infinite values of " + std::to_string(t.numel()) +
                                  " (the weights are corrupt or come from a diverged run)");
}

}  // namespace

void check_finite_tensors(const NamedTensors& tensors, const std::string& origin) {
  for (const auto& [name, t] : tensors) check_one(name, t, origin);
}

void check_finite_weights(const torch::nn::Module& model, const std::string& origin) {
  for (const auto& item : model.named_parameters()) check_one(item.key(), item.value(), origin);
  for (const auto& item : model.named_buffers()) check_one(item.key(), item.value(), origin);
}

}  // namespace memtx
