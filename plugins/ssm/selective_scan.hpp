// ssm/selective_scan.hpp: Mamba's selective scan, with two implementations of one contract.
//   Inputs, batch first: u, dt [B, T, C] (C = d_inner channels), A [C, N] (N = d_state), Bm, Cm [B, T, N],
//   h0 [B, C, N]. For t = 1..T, every channel c and state n:
//     h_t[c,n] = exp(dt_t[c] A[c,n]) h_{t-1}[c,n] + dt_t[c] Bm_t[n] u_t[c]
//     y_t[c]   = sum_n Cm_t[n] h_t[c,n]
//   Result: y [B, T, C] and the last state h_T [B, C, N]; differentiable in every input, h0 included.
// sequential_scan is the reference: one step at a time with tensor ops, any device and floating dtype.
// chunked_scan is the fast CPU path: a hand-written loop parallel over (batch, channel) that keeps h in
// registers and stores h only at chunk boundaries; backward recomputes each chunk's states from its
// boundary and runs the recurrence in reverse. It only ever multiplies by decays exp(dt A) <= 1 (never
// divides by them), so it is as safe as the sequential loop. float32 and float64 on the CPU.
#pragma once
#include <torch/torch.h>

#include <string>

namespace memtx::ssm {

struct ScanResult {
  torch::Tensor y;           // [B, T, C]
  torch::Tensor last_state;  // [B, C, N]
};

enum class ScanKind { Auto, Sequential, Chunked };

// "auto" | "sequential" | "chunked"; Error(Config) naming attention.ssm_scan otherwise.
ScanKind parse_scan_kind(const std::string& name);
const char* scan_kind_name(ScanKind kind);

// Checks the shapes of the contract above; Error(InvalidArgument) naming the tensor at fault.
void check_scan_inputs(const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& A,
                       const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& h0);

ScanResult sequential_scan(const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& A,
                           const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& h0);

constexpr int64_t kDefaultScanChunk = 64;
ScanResult chunked_scan(const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& A,
                        const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& h0,
                        int64_t chunk = kDefaultScanChunk);

// Auto: chunked on the CPU, sequential elsewhere. Chunked on another device is an Error(InvalidArgument).
ScanResult selective_scan(ScanKind kind, const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& A,
                          const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& h0);

}  // namespace memtx::ssm
