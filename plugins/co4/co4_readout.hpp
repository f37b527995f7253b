// co4/co4_readout.hpp: CO4's latent-to-token attention. Each latent query l (already projected by Wq) attends
// over the tokens per head h (head size d = D / H):
//   o_l = softmax_j(Q_l,h . k_j,h / sqrt(d)) v_j,h ;   output = mean_l o_l   (heads concatenated, before Wo)
// causal: queries [B, Tq, L, D] hold one latent set per position; the set of position t (absolute position
//         Tk - Tq + t, cached tokens first) sees tokens j <= t only. Output [B, Tq, D].
// non-causal: queries [B, 1, L, D], every token visible. Output [B, 1, D].
// `fused` uses the LibTorch fused scaled-dot-product attention with a boolean mask, else the explicit path.
#pragma once
#include <torch/torch.h>

namespace memtx::co4 {

// keys, values [B, H, Tk, d].
torch::Tensor latent_readout(const torch::Tensor& queries, const torch::Tensor& keys, const torch::Tensor& values,
                             bool causal, bool fused, double dropout);

}  // namespace memtx::co4
