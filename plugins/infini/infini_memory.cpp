// infini/infini_memory.cpp: memory read, linear / delta write and the gate functions (equations in
// infini_memory.hpp).
#include "infini_memory.hpp"

#include <memtx/error.hpp>

namespace memtx::infini {

GateKind parse_gate_kind(const std::string& name) {
  if (name == "orig_sigmoid") return GateKind::Sigmoid;
  if (name == "hard_sigmoid") return GateKind::HardSigmoid;
  if (name == "clamp") return GateKind::Clamp;
  throw Error(StatusCode::Config, "infini: infini_attention.balance_act_type '" + name +
                                      "' is not one of orig_sigmoid, hard_sigmoid, clamp");
}

double closed_gate_value(GateKind kind) {
  switch (kind) {
    case GateKind::Sigmoid: return -12.0;
    case GateKind::HardSigmoid: return -3.0;
    case GateKind::Clamp: return 0.0;
  }
  return -12.0;
}

torch::Tensor sigma(const torch::Tensor& u) { return torch::elu(u) + 1.0; }

torch::Tensor memory_read(const torch::Tensor& sigma_q, const Memory& mem) {
  const int64_t B = sigma_q.size(0), H = sigma_q.size(1), T = sigma_q.size(2), dk = sigma_q.size(3);
  const int64_t G = mem.M.size(1), dv = mem.M.size(3);
  // Query heads g*r .. g*r + r - 1 read kv head g: fold them into the row dimension of that head.
  auto q = sigma_q.reshape({B, G, (H / G) * T, dk});
  auto num = torch::matmul(q, mem.M);                    // [B, G, rT, d_v]
  auto den = torch::matmul(q, mem.z.unsqueeze(-1));      // [B, G, rT, 1]
  return (num / (den + kMemoryEps)).reshape({B, H, T, dv});
}

Memory memory_write(const Memory& mem, const torch::Tensor& sigma_k, const torch::Tensor& v, bool delta,
                    const torch::Tensor& write_weight) {
  torch::Tensor stored = v;
  if (delta) {
    // Store only what the memory does not already return for these keys.
    auto retrieved = torch::matmul(sigma_k, mem.M) / (torch::matmul(sigma_k, mem.z.unsqueeze(-1)) + kMemoryEps);
    stored = v - retrieved;
  }
  const auto written = write_weight.defined() ? sigma_k * write_weight.unsqueeze(-1) : sigma_k;
  return {mem.M + torch::matmul(written.transpose(-2, -1), stored), mem.z + written.sum(2)};
}

torch::Tensor hard_sigmoid_ramp(const torch::Tensor& u) { return u / 6.0 + 0.5; }

torch::Tensor gate(const torch::Tensor& beta, GateKind kind) {
  switch (kind) {
    case GateKind::Sigmoid: return torch::sigmoid(beta);
    case GateKind::HardSigmoid: return torch::clamp(hard_sigmoid_ramp(beta), 0.0, 1.0);  // PyTorch hardsigmoid, exact in float64
    case GateKind::Clamp: return torch::clamp(beta, 0.0, 1.0);
  }
  return beta;
}

}  // namespace memtx::infini
