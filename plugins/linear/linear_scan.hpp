// linear/linear_scan.hpp: causal linear attention over feature maps, chunked.
//   o_t = phi(q_t) S_t / (phi(q_t) z_t + eps),  S_t = S_0 + sum_{j<=t} phi(k_j)^T v_j,  z_t = z_0 + sum_{j<=t} phi(k_j)
// Chunked form (chunk size C, chunk c holding positions cC .. cC + C - 1):
//   S_(c) = S_0 + sum_{c' < c} phi(K_c')^T V_c'            (state before chunk c; exclusive prefix sum)
//   num = phi(Q_c) S_(c) + tril(phi(Q_c) phi(K_c)^T) V_c     (inter-chunk state + masked quadratic intra-chunk)
//   den = phi(Q_c) z_(c) + rowsum(tril(phi(Q_c) phi(K_c)^T))
//   O_c = num / (den + eps)
// Shapes: phi_q [B, H, T, d_k], phi_k [B, G, T, d_k], v [B, G, T, d_v] (query head h uses kv head h / (H/G)),
// S [B, G, d_k, d_v], z [B, G, d_k]. All chunks are computed at once; the extra memory is T / C states.
#pragma once
#include <torch/torch.h>

namespace memtx::linear {

constexpr double kLinearEps = 1e-6;

struct LinearScanResult {
  torch::Tensor out;  // [B, H, T, d_v]
  torch::Tensor S;    // [B, G, d_k, d_v] after the last position
  torch::Tensor z;    // [B, G, d_k]
};

LinearScanResult linear_attention_chunked(const torch::Tensor& phi_q, const torch::Tensor& phi_k,
                                          const torch::Tensor& v, const torch::Tensor& S0, const torch::Tensor& z0,
                                          int64_t chunk);

}  // namespace memtx::linear
