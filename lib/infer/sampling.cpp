// infer/sampling.cpp: repetition penalty, greedy, temperature, top-k, top-p and min-p token choice (formulas
// and order in sampling.hpp).
#include "infer/sampling.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "memtx/error.hpp"

namespace memtx::infer {

void SeenTokens::add(int64_t id) {
  if (id < 0 || id >= static_cast<int64_t>(mask_.size()) || mask_[static_cast<size_t>(id)]) return;
  mask_[static_cast<size_t>(id)] = 1;
  ids_.push_back(id);
}

void SeenTokens::add(const std::vector<int64_t>& ids) {
  for (int64_t id : ids) add(id);
}

void SeenTokens::clear() {
  for (int64_t id : ids_) mask_[static_cast<size_t>(id)] = 0;
  ids_.clear();
}

void check_sampling_options(const SamplingOptions& o) {
  if (!std::isfinite(o.temperature) || o.temperature < 0)
    throw Error(StatusCode::InvalidArgument, "temperature must be finite and >= 0 (0 = greedy), got " + std::to_string(o.temperature));
  if (o.top_k < 0) throw Error(StatusCode::InvalidArgument, "top_k must be >= 0 (0 = off), got " + std::to_string(o.top_k));
  if (!(o.top_p > 0 && o.top_p <= 1))
    throw Error(StatusCode::InvalidArgument, "top_p must be in (0, 1] (1 = off), got " + std::to_string(o.top_p));
  if (!(o.min_p >= 0 && o.min_p <= 1))
    throw Error(StatusCode::InvalidArgument, "min_p must be in [0, 1] (0 = off), got " + std::to_string(o.min_p));
  if (!std::isfinite(o.repetition_penalty) || !(o.repetition_penalty > 0))
    throw Error(StatusCode::InvalidArgument, "repetition_penalty must be finite and > 0 (1 = off), got " +
                                                 std::to_string(o.repetition_penalty));
}

torch::Tensor penalize_repetition(const torch::Tensor& logits, const std::vector<int64_t>& seen, double penalty) {
  torch::Tensor z = logits.to(torch::kFloat32);
  if (penalty == 1.0 || seen.empty()) return z;
  std::vector<int64_t> inside;
  inside.reserve(seen.size());
  for (int64_t id : seen)
    if (id >= 0 && id < z.size(0)) inside.push_back(id);
  if (inside.empty()) return z;
  const torch::Tensor ids = torch::tensor(inside, torch::kLong).to(z.device());
  const torch::Tensor picked = z.index_select(0, ids);
  const torch::Tensor penalized = torch::where(picked > 0, picked / penalty, picked * penalty);
  return z.clone().index_copy_(0, ids, penalized);
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
  if (o.min_p > 0) {
    const torch::Tensor q = z.softmax(0);
    z = z.masked_fill(q < q.max() * o.min_p, neg_inf);
  }
  return z;
}

int64_t sample_token(const torch::Tensor& logits, const SamplingOptions& o, at::Generator& generator,
                     const SeenTokens* seen) {
  check_sampling_options(o);
  const torch::Tensor z =
      seen && o.repetition_penalty != 1.0 ? penalize_repetition(logits, seen->ids(), o.repetition_penalty) : logits;
  if (o.temperature == 0) return z.argmax().item<int64_t>();
  const torch::Tensor probs = filtered_logits(z, o).softmax(0);
  return torch::multinomial(probs, 1, /*replacement=*/false, generator).item<int64_t>();
}

}  // namespace memtx::infer
