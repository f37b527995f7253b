// co4/co4_attention.hpp: CO4, co-occurrence attention after Adeel 2025 (arXiv 2505.06257), "co4" variant.
//   Parameters: latent queries q0 [L, D] (L = attention.n_latent), Wk, Wv, Wq, Wo (D -> D each).
//   k = x Wk, v = x Wv [B, T, D]; q = q0.
//   attention.triadic_loops passes of (co4_triadic.hpp), MOD = attention.mod_fn (co4_modulation.hpp):
//     c_q = (mean_tok k + mean_tok v)/2, q <- MOD(q, c_q); qbar = mean_l q;
//     k <- MOD(k, (qbar + v)/2); v <- MOD(v, (qbar + k)/2)            (q, then k, then v: asynchronous)
//   Q = q Wq; per head (d = D / H): o_l = softmax_j(Q_l . k_j / sqrt(d)) v_j; y = Wo concat_h(mean_l o_l).
// Causal form (attention.co4_causal: true, the default). Every mean over tokens is the prefix mean at the
// position asking, so position t owns a latent set q[t]:
//   c_q[t] = ((1/(t+1)) sum_{j<=t} k_j + (1/(t+1)) sum_{j<=t} v_j) / 2,   q[t] <- MOD(q[t], c_q[t])
//   qbar[t] = mean_l q[t];  k_t <- MOD(k_t, (qbar[t] + v_t)/2);  v_t <- MOD(v_t, (qbar[t] + k_t)/2)
// i.e. token t's key and value are modulated by the latents of its own position, so once written they never
// change (later passes average these per-token keys/values over the prefix again). The readout of position t
// is the latent set q[t] Wq attending over the final keys/values of tokens j <= t, averaged over latents.
// Hence y_t depends on x_{<=t} only, and a decoding step needs only the carried token sums of every pass and
// the cached final keys/values. This is not the published formula applied to x_{<=t}: that one re-modulates
// every earlier token with the newest latents (quadratic work per position, nothing cacheable); the two agree
// on the latent set and on the newest token's key/value for one pass. Prefix means are cumulative sums over
// time (accumulated in float32, float64 for float64 inputs) divided by t+1; no per-position loop.
// Non-causal form (co4_causal: false, the published one): means over the whole input, one latent set, every
// position gets the same output; it sees the future and cannot decode with a cache (an error).
// No RoPE (positions enter through the prefix means); keys and values use H heads of size D / H
// (hidden_dim must be divisible by num_heads; model.head_dim and n_kv_group do not apply).
// Initialisation: Linear weights N(0, init_std), biases 0; q0 N(0, 1/sqrt(D)) as in the reference code.
#pragma once
#include <memtx/attention.hpp>

#include "co4_modulation.hpp"
#include "co4_triadic.hpp"

namespace memtx::co4 {

struct Co4Options {
  int64_t n_latent = 4;
  int64_t triadic_loops = 1;
  ModFn mod_fn = ModFn::Cooperation;
  bool causal = true;
  bool fused = true;
  static Co4Options from_spec(const AttentionSpec& spec);  // Error(Config) naming the key at fault
};

class Co4AttentionImpl : public AttentionModuleImpl {
 public:
  explicit Co4AttentionImpl(const AttentionSpec& spec);
  torch::Tensor forward(const torch::Tensor& x, AttentionContext& ctx) override;
  void reset_parameters(double init_std) override;
  std::vector<std::string> projection_names() const override;

  torch::Tensor latent_queries;  // q0 [L, D]
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  void check_input(const torch::Tensor& x) const;
  TokenSums carried_sums(const LayerState& state, int64_t batch) const;
  AttentionSpec spec_;
  Co4Options opt_;
};
TORCH_MODULE(Co4Attention);

}  // namespace memtx::co4
