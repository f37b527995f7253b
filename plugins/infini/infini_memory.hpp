// infini/infini_memory.hpp: the compressive memory of Infini-attention (Munkhdalai et al. 2024) and its gate.
//   sigma(u) = ELU(u) + 1 (elementwise, > 0)
//   read:   A_mem = sigma(Q) M / (sigma(Q) z + eps)                   (M, z as before the segment)
//   linear: M' = M + sigma(K)^T V ;                          z' = z + sum_t sigma(K_t)
//   delta:  M' = M + sigma(K)^T (V - sigma(K) M / (sigma(K) z + eps)) ; z' as in linear
//   write gate (optional): each token t writes with a weight w_t in [0, 1], sigma(K_t) -> w_t sigma(K_t) in the
//           sums above (not in the delta's retrieval); w_t = 0 writes nothing at all, so a stream of tokens
//           the model learns to skip leaves M and z exactly as they were, however long it is.
//   gate:   A = g(beta_h) A_mem + (1 - g(beta_h)) A_dot, one beta per query head h, with g one of
//           orig_sigmoid 1 / (1 + e^-b), hard_sigmoid clamp(b / 6 + 1/2, 0, 1) (PyTorch's hardsigmoid),
//           clamp clamp(b, 0, 1).
// Shapes: M [B, G, d_k, d_v] and z [B, G, d_k], one per sequence and kv head; Q [B, H, T, d_k] with
// query head h reading kv head h / (H / G); K [B, G, T, d_k], V [B, G, T, d_v]. Q and K are the
// projections *before* RoPE. On the first segment M = 0 and z = 0, so A_mem = 0 / eps = 0 exactly.
#pragma once
#include <torch/torch.h>

#include <string>

namespace memtx::infini {

constexpr double kMemoryEps = 1e-6;

enum class GateKind { Sigmoid, HardSigmoid, Clamp };
GateKind parse_gate_kind(const std::string& name);  // orig_sigmoid | hard_sigmoid | clamp

struct Memory {
  torch::Tensor M;  // [B, G, d_k, d_v]
  torch::Tensor z;  // [B, G, d_k]
};

torch::Tensor sigma(const torch::Tensor& u);
// sigma_q [B, H, T, d_k] -> [B, H, T, d_v].
torch::Tensor memory_read(const torch::Tensor& sigma_q, const Memory& mem);
// The memory after storing one segment's (sigma(K), V); `delta` picks the linear + delta rule; write_weight
// [B, G, T] (undefined: all ones) scales what each token writes.
Memory memory_write(const Memory& mem, const torch::Tensor& sigma_k, const torch::Tensor& v, bool delta,
                    const torch::Tensor& write_weight = {});
// g(beta) elementwise.
torch::Tensor gate(const torch::Tensor& beta, GateKind kind);
// The hard sigmoid's ramp u / 6 + 1/2 without its clamps (gate(u, HardSigmoid) clamps it to [0, 1]).
torch::Tensor hard_sigmoid_ramp(const torch::Tensor& u);
// The gate parameter that shuts the gate: 0 for clamp, -3 for hard_sigmoid (both give exactly 0 and still pass
// a gradient at that edge), -12 for the logistic (6.1e-6).
double closed_gate_value(GateKind kind);

}  // namespace memtx::infini
