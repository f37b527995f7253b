// co4/co4_readout.cpp: latent-to-token attention; equations in co4_readout.hpp.
#include "co4_readout.hpp"

#include <memtx/torch_compat.hpp>

#include <cmath>
#include <limits>

namespace memtx::co4 {

torch::Tensor latent_readout(const torch::Tensor& queries, const torch::Tensor& keys, const torch::Tensor& values,
                             bool causal, bool fused, double dropout) {
  const int64_t B = queries.size(0), Tq = queries.size(1), L = queries.size(2), D = queries.size(3);
  const int64_t H = keys.size(1), d = keys.size(3), Tk = keys.size(2);
  // Rows ordered (position, latent): [B, H, Tq * L, d].
  auto q = queries.reshape({B, Tq, L, H, d}).permute({0, 3, 1, 2, 4}).reshape({B, H, Tq * L, d});
  c10::optional<torch::Tensor> keep;
  if (causal) {
    auto per_position = torch::ones({Tq, Tk}, keys.options().dtype(torch::kBool)).tril(Tk - Tq);
    keep = per_position.unsqueeze(1).expand({Tq, L, Tk}).reshape({Tq * L, Tk});
  }
  torch::Tensor attended;
  if (fused && compat::has_fused_sdpa()) {
    attended = compat::sdpa(q, keys, values, keep, /*is_causal=*/false, dropout);
  } else {
    auto scores = torch::matmul(q, keys.transpose(-2, -1)) / std::sqrt(double(d));
    if (keep) scores = scores.masked_fill(keep->logical_not(), -std::numeric_limits<double>::infinity());
    auto probs = torch::softmax(scores, -1);
    if (dropout > 0.0) probs = torch::dropout(probs, dropout, /*train=*/true);
    attended = torch::matmul(probs, values);
  }
  auto latent_mean = attended.view({B, H, Tq, L, d}).mean(3);  // [B, H, Tq, d]
  return latent_mean.transpose(1, 2).reshape({B, Tq, D});
}

}  // namespace memtx::co4
