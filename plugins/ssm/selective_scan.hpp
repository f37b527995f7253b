// ssm/selective_scan.hpp: Mamba's selective scan, with three implementations of one contract.
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
// cuda_scan (selective_scan_cuda.hpp) is the same algorithm as CUDA kernels, for CUDA tensors: u, dt, Bm, Cm in
// float32 or bfloat16, A and h0 in float32, the state in float32. "chunked" names it on CUDA tensors.
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

// The dtypes a scan takes: Same, one dtype for every input (the sequential and CPU scans); Float32State, u, dt,
// Bm and Cm in one dtype with A and h0 in float32 (the CUDA kernel, which takes bfloat16 activations).
enum class ScanDtypes { Same, Float32State };

// Checks the shapes of the contract above, the dtypes (as `dtypes` says) and that every input is on u's device;
// Error(InvalidArgument) naming the tensor at fault.
void check_scan_inputs(const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& A,
                       const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& h0,
                       ScanDtypes dtypes = ScanDtypes::Same);

ScanResult sequential_scan(const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& A,
                           const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& h0);

constexpr int64_t kDefaultScanChunk = 64;
ScanResult chunked_scan(const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& A,
                        const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& h0,
                        int64_t chunk = kDefaultScanChunk);

// Auto: chunked on the CPU and on CUDA (the CUDA kernel, when this build has it and it takes the inputs: float32 or
// bfloat16, d_state <= 64; else sequential there), sequential elsewhere. Chunked is the CPU loop on CPU tensors and
// the CUDA kernel on CUDA tensors (an Error(InvalidArgument) for inputs it does not take and in a build without
// it); on another device it is an Error(InvalidArgument).
ScanResult selective_scan(ScanKind kind, const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& A,
                          const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& h0);

// Whether selective_scan(kind, ...) on float32 or bfloat16 tensors of `device` with d_state `states` runs the CUDA
// kernel, which takes bfloat16 u, dt, Bm, Cm as they are (the other scans want every input in one dtype).
bool scan_runs_cuda_kernel(ScanKind kind, const torch::Device& device, int64_t states);

}  // namespace memtx::ssm
