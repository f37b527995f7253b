// infer/sampling.cpp: greedy, temperature, top-k and top-p token choice (formulas in sampling.hpp).
#include "infer/sampling.hpp"

#include <cmath>
#include <limits>

#include "memtx/error.hpp"

namespace memtx::infer {

void check_sampling_options(const SamplingOptions& o) {
  if (!std::isfinite(o.temperature) || o.temperature < 0)
    throw Error(StatusCode::InvalidArgument, "temperature must be finite and >= 0 (0 = greedy), got " + std::to_string(o.temperature));
  if (o.top_k < 0) throw Error(StatusCode::InvalidArgument, "top_k must be >= 0 (0 = off), got " + std::to_string(o.top_k));
  if (!(o.top_p > 0 && o.top_p <= 1))
    throw Error(StatusCode::InvalidArgument, "top_p must be in (0, 1] (1 = off), got " + std::to_string(o.top_p));
}

torch::Tensor filtered_logits(const torch::Tensor& logits, const SamplingOptions& o) {
  check_sampling_options(o);
  if (logits.dim() != 1) throw Error(StatusCode::InvalidArgument, "sampling expects one row of logits [vocab]");
  const double neg_inf = -std::numeric_limits<double>::infinity();
  torch::Tensor z = logits.to(torch::kFloat32);
  if (o.temperature > 0) z = z / o.temperature;
  const int64_t vocab = z.size(0);
  if (o.top_k > 0 && o.top_k < vocab) {
    const torch::Tensor kth = std::get<0>(z.topk(o.top_k)).min();
    z = z.masked_fill(z < kth, neg_inf);
  }
  if (o.top_p < 1.0) {
    auto [sorted, order] = z.sort(/*dim=*/0, /*descending=*/true);
    const torch::Tensor cumulative = sorted.softmax(0).cumsum(0);
    // Drop a token when the tokens before it already reach top_p; the first token is always kept.
    torch::Tensor drop_sorted = (cumulative - sorted.softmax(0)) >= o.top_p;
    torch::Tensor drop = torch::zeros_like(drop_sorted).scatter(0, order, drop_sorted);
    z = z.masked_fill(drop, neg_inf);
  }
  return z;
}

int64_t sample_token(const torch::Tensor& logits, const SamplingOptions& o, at::Generator& generator) {
  if (o.temperature == 0) {
    check_sampling_options(o);
    return logits.argmax().item<int64_t>();
  }
  const torch::Tensor probs = filtered_logits(logits, o).softmax(0);
  return torch::multinomial(probs, 1, /*replacement=*/false, generator).item<int64_t>();
}

}  // namespace memtx::infer
