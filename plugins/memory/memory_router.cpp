// memory/memory_router.cpp: router inputs per strategy, top-k choice and router losses (see
// memory_router.hpp).
#include "memory_router.hpp"

#include <memtx/error.hpp>

#include <algorithm>

namespace memtx::memory {
namespace {

// Router arithmetic in float32, or in float64 for a float64 model.
torch::ScalarType router_type(const torch::Tensor& t) {
  return t.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
}

// r_t = mean of the last W inputs up to t, continuing the window the state holds (float32 sums).
torch::Tensor rolling_inputs(const torch::Tensor& x, int64_t window, LayerState* state) {
  const int64_t B = x.size(0), T = x.size(1), D = x.size(2);
  auto xf = x.to(router_type(x));
  torch::Tensor previous;
  if (state && state->count("memory.routing_window")) previous = state->at("memory.routing_window").to(xf.scalar_type());
  const int64_t p0 = previous.defined() ? previous.size(1) : 0;
  auto seen = previous.defined() ? torch::cat({previous, xf}, 1) : xf;  // [B, p0 + T, D]
  const int64_t pad = window - 1 - p0;                                  // p0 <= W - 1
  auto padded = pad > 0 ? torch::cat({torch::zeros({B, pad, D}, xf.options()), seen}, 1) : seen;
  auto sums = padded.unfold(1, window, 1).sum(-1);  // [B, T, D]: the window ending at each new token
  auto counts = torch::clamp_max(torch::arange(p0 + 1, p0 + T + 1, xf.options()), static_cast<double>(window));
  if (state) {
    const int64_t keep = std::min<int64_t>(window - 1, p0 + T);
    (*state)["memory.routing_window"] = seen.narrow(1, p0 + T - keep, keep);
  }
  return (sums / counts.view({1, T, 1})).to(x.scalar_type());
}

torch::Tensor sequence_inputs(const torch::Tensor& x, LayerState* state) {
  const int64_t B = x.size(0), T = x.size(1);
  auto sum = x.to(router_type(x)).sum(1);  // [B, D]
  auto count = torch::full({B, 1}, static_cast<double>(T), sum.options());
  if (state && state->count("memory.routing_sum")) {
    sum = sum + state->at("memory.routing_sum").to(sum.scalar_type());
    count = count + state->at("memory.routing_count").to(sum.scalar_type());
  }
  if (state) {
    (*state)["memory.routing_sum"] = sum;
    (*state)["memory.routing_count"] = count;
  }
  return (sum / count).to(x.scalar_type());
}

}  // namespace

torch::Tensor router_inputs(const torch::Tensor& x, const std::string& strategy, int64_t window, LayerState* state) {
  if (strategy == "token") return x;
  if (strategy == "rolling") {
    if (window < 1) throw Error(StatusCode::Config, "memory.routing_window_size must be >= 1");
    return rolling_inputs(x, window, state);
  }
  if (strategy == "sequence") return sequence_inputs(x, state);
  throw Error(StatusCode::Config, "memory routing strategy '" + strategy + "': expected sequence, rolling or token");
}

Routing route(const torch::Tensor& logits_in, int64_t top_k, const GlobalBatch* global) {
  const int64_t C = logits_in.size(-1);
  if (top_k < 1 || top_k > C)
    throw Error(StatusCode::Config, "memory.top_k_chapters = " + std::to_string(top_k) + " must be in [1, " +
                                        "memory.num_chapters = " + std::to_string(C) + "]");
  auto logits = logits_in.to(router_type(logits_in));
  auto probs = torch::softmax(logits, -1);
  auto [top_p, top_i] = probs.topk(top_k, -1);
  Routing r;
  r.indices = top_i;
  r.gates = top_p / top_p.sum(-1, /*keepdim=*/true);

  // The sums the losses need, in one vector [I (C) | sum_u lse_u^2 | counts (C) | U] so that a data-parallel
  // run adds them over the ranks in one collective.
  auto flat_logits = logits.reshape({-1, C});
  auto flat_probs = probs.reshape({-1, C});
  auto counts = torch::zeros({C}, flat_probs.options())
                    .index_add_(0, top_i.reshape({-1}), torch::ones({top_i.numel()}, flat_probs.options()));
  auto units = torch::full({1}, static_cast<double>(flat_probs.size(0)), flat_probs.options());
  auto sums = torch::cat({flat_probs.sum(0), torch::logsumexp(flat_logits, -1).pow(2).sum().view({1}), counts, units});
  if (global) sums = global->sum(sums);
  auto importance = sums.narrow(0, 0, C);
  auto z_sum = sums[C];
  auto count_total = sums.narrow(0, C + 1, C).detach();  // no gradient: a count
  auto U = sums[2 * C + 1].detach();

  auto f = count_total / (U * static_cast<double>(top_k));
  auto P = importance / U;
  r.losses["load_balance"] = static_cast<double>(C) * (f * P).sum();
  auto mean_importance = importance.mean();
  r.losses["auxiliary"] = (importance - mean_importance).pow(2).mean() / mean_importance.pow(2);
  r.losses["z_loss"] = z_sum / U;
  return r;
}

}  // namespace memtx::memory
