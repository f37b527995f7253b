// memory/memory_router.hpp: chapter routing (mixture-of-experts style) of a memory layer. The bank is split
// into C = memory.num_chapters chapters of P = memory.tokens_per_chapter consecutive vectors (null: P =
// floor(N_m / C); the last N_m - C P vectors then belong to no chapter and are never read).
//   Router inputs r, from the sublayer's normalised input x [B, T, D]:
//     token     r_t = x_t                              one choice per token; causal
//     rolling   r_t = mean(x_{t-W+1} .. x_t)          W = memory.routing_window_size (fewer tokens at the
//                                                      start of a sequence); one choice per token; causal
//     sequence  r   = mean(x_1 .. x_T)                 one choice per sequence; NOT causal: later tokens
//                                                      choose the chapters that earlier positions read
//   With a state (a sequence continued over several calls: decoding, streaming, the segment engine's
//   carried layers), rolling keeps the last W - 1 inputs ("memory.routing_window" [B, <= W-1, D]) so pieces
//   route exactly as the whole, and sequence keeps the running sum and count ("memory.routing_sum" [B, D],
//   "memory.routing_count" [B, 1]), so each call pools everything seen up to its own end (these entries are
//   float32, float64 for a float64 model, as is all router arithmetic).
//   logits z = r W_r^T (the layer's "router" projection, no bias), p = softmax(z), S = the top_k chapters by
//   p, gates g_c = p_c / sum_{c' in S} p_c' (the layer mixes the selected chapters' attention outputs by g).
//   Losses over the U routed units (tokens or sequences):
//     load_balance  C sum_i f_i P_i, f_i = (units whose top k holds i) / (U k), P_i = mean_u p_ui
//                   (1 when routing is uniform)
//     auxiliary     CV^2 of the importance I_i = sum_u p_ui: var(I) / mean(I)^2 with the population
//                   variance (the importance loss of Shazeer et al. 2017; 0 when every chapter has the same
//                   importance)
//     z_loss        mean_u (logsumexp_i z_ui)^2
//   In a data-parallel training run (AttentionContext::global_batch set) U, the counts behind f, P's and I's sums
//   and z_loss's sum are taken over the global batch (every rank's units), so the losses and their gradients are
//   those one process would compute on the whole batch; otherwise over this call's units.
#pragma once
#include <memtx/attention.hpp>

#include <map>
#include <string>

namespace memtx::memory {

// [B, T, D] for token and rolling, [B, D] for sequence. state may be null (a whole sequence).
torch::Tensor router_inputs(const torch::Tensor& x, const std::string& strategy, int64_t window, LayerState* state);

struct Routing {
  torch::Tensor indices;  // [..., k] int64 chosen chapters, in descending probability
  torch::Tensor gates;    // [..., k] renormalised probabilities of the chosen chapters (float32 or float64)
  std::map<std::string, torch::Tensor> losses;  // "load_balance", "auxiliary", "z_loss": scalars
};

// logits [..., C] -> the top_k choice and the losses over all leading positions (of every rank when global is
// set: one collective).
Routing route(const torch::Tensor& logits, int64_t top_k, const GlobalBatch* global = nullptr);

}  // namespace memtx::memory
