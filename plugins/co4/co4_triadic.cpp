// co4/co4_triadic.cpp: the triadic modulation loops; equations in co4_triadic.hpp.
#include "co4_triadic.hpp"

#include <memtx/error.hpp>

namespace memtx::co4 {
namespace {

// Sums over tokens run in float32 for half/bfloat16/float inputs and in float64 for float64 inputs.
torch::ScalarType accumulation_type(const torch::Tensor& r) {
  return r.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
}

// Token mean of r [B, T, D]: causal prefix means [B, T, D] continuing `earlier_sum` over `earlier_count`
// tokens, or the whole-input mean [B, 1, D].
torch::Tensor token_mean(const torch::Tensor& r, const torch::Tensor& earlier_sum, int64_t earlier_count,
                         bool causal) {
  const auto acc = accumulation_type(r);
  if (!causal) return r.to(acc).mean(1, /*keepdim=*/true).to(r.scalar_type());
  auto running = torch::cumsum(r, 1, acc);
  if (earlier_sum.defined()) running = running + earlier_sum.unsqueeze(1);
  const int64_t T = r.size(1);
  auto counts = torch::arange(earlier_count + 1, earlier_count + T + 1, r.options().dtype(acc)).view({1, T, 1});
  return (running / counts).to(r.scalar_type());
}

torch::Tensor add_sum(const torch::Tensor& earlier_sum, const torch::Tensor& r) {
  auto sum = r.sum(1, /*keepdim=*/false, accumulation_type(r));
  return earlier_sum.defined() ? earlier_sum + sum : sum;
}

}  // namespace

TriadicResult triadic_loops(const torch::Tensor& q0, torch::Tensor k, torch::Tensor v, int64_t passes, ModFn fn,
                            bool causal, const TokenSums& before) {
  if (!causal && before.count != 0) {
    throw Error(StatusCode::Internal, "co4: the non-causal form cannot continue earlier tokens");
  }
  const bool has_before = before.count > 0;
  if (has_before && (int64_t(before.k.size()) != passes || int64_t(before.v.size()) != passes)) {
    throw Error(StatusCode::InvalidArgument, "co4: the carried state holds token sums for " +
                                                 std::to_string(before.k.size()) + " passes, the layer runs " +
                                                 std::to_string(passes) + " (attention.triadic_loops)");
  }
  TriadicResult out;
  out.sums.count = before.count + k.size(1);
  auto q = q0.to(k.scalar_type()).unsqueeze(0).unsqueeze(0);  // [1, 1, L, D]
  for (int64_t i = 0; i < passes; ++i) {
    const torch::Tensor earlier_k = has_before ? before.k[i] : torch::Tensor();
    const torch::Tensor earlier_v = has_before ? before.v[i] : torch::Tensor();
    if (causal) {
      out.sums.k.push_back(add_sum(earlier_k, k));
      out.sums.v.push_back(add_sum(earlier_v, v));
    }
    auto mean_k = token_mean(k, earlier_k, before.count, causal);
    auto mean_v = token_mean(v, earlier_v, before.count, causal);
    auto context_q = 0.5 * (mean_k + mean_v);
    q = modulate(fn, q, context_q.unsqueeze(2));  // [B, T or 1, L, D]
    auto q_mean = q.mean(2);                      // [B, T or 1, D]
    k = modulate(fn, k, 0.5 * (q_mean + v));
    v = modulate(fn, v, 0.5 * (q_mean + k));
  }
  const int64_t B = k.size(0);
  out.q = q.expand({B, q.size(1), q.size(2), q.size(3)});
  out.k = k;
  out.v = v;
  return out;
}

}  // namespace memtx::co4
