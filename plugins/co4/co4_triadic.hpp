// co4/co4_triadic.hpp: CO4's triadic modulation loops between latent queries q, keys k and values v.
// One pass (asynchronous: q first, then k with the new q, then v with the new q and k):
//   c_q = (mean_tok k + mean_tok v) / 2           q <- MOD(q, c_q)          (every latent l)
//   qbar = mean_l q
//   c_k = (qbar + v) / 2                          k <- MOD(k, c_k)          (every token)
//   c_v = (qbar + k) / 2                          v <- MOD(v, c_v)
// mean_tok is a mean over tokens:
//   causal:     the prefix mean at position t, (1/(t+1)) sum_{j<=t} (a running sum: cumsum over time, plus
//               the sums carried from earlier calls when streaming); q then has one latent set per position,
//               q[t], and token t's key and value are modulated with qbar[t], the latents of its own position.
//   non-causal: the mean over the whole input (the published form): one latent set shared by all positions.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "co4_modulation.hpp"

namespace memtx::co4 {

// Token sums of the keys and values entering each pass, over the tokens of earlier calls (streaming).
// One [B, D] tensor per pass (float32, or float64 for float64 inputs); empty when there are no earlier tokens.
struct TokenSums {
  std::vector<torch::Tensor> k, v;
  int64_t count = 0;  // tokens summed
};

struct TriadicResult {
  torch::Tensor q;  // [B, T, L, D] causal, [B, 1, L, D] non-causal (q0 broadcast when there are no passes)
  torch::Tensor k;  // [B, T, D]
  torch::Tensor v;  // [B, T, D]
  TokenSums sums;   // `before` plus this input's tokens (causal only)
};

// q0 [L, D]; k, v [B, T, D]. `before` must be empty (count 0) for the non-causal form.
TriadicResult triadic_loops(const torch::Tensor& q0, torch::Tensor k, torch::Tensor v, int64_t passes, ModFn fn,
                            bool causal, const TokenSums& before);

}  // namespace memtx::co4
