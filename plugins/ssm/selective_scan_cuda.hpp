// ssm/selective_scan_cuda.hpp: the CUDA selective scan (Mamba's scan; contract and equations in
// selective_scan.hpp, kernel design in selective_scan_cuda_kernels.cuh).
//   memtx::ssm::cuda: the kernel launchers, plain C++ types only, so that selective_scan_cuda.cu compiles without
//   torch. Inputs u, dt, Bm, Cm in float32 or bfloat16 (one dtype), A (passed transposed) and h0 in float32; the
//   state is float32 throughout, y comes out in the input dtype, the last state in float32. Every tensor is
//   contiguous in the layout named below, on the current CUDA device; `stream` is a cudaStream_t.
//   memtx::ssm (not visible to nvcc): cuda_scan, the differentiable torch entry point, and cuda_scan_compiled.
#pragma once
#include <cstdint>

namespace memtx::ssm::cuda {

enum class ScanDtype : int { Float32 = 0, BFloat16 = 1 };

constexpr int64_t kScanChunk = 16;     // time steps per chunk; the forward keeps the state before each chunk
constexpr int64_t kMaxScanState = 64;  // the largest d_state (N) the kernels take

inline int64_t scan_chunk_count(int64_t steps) { return (steps + kScanChunk - 1) / kScanChunk; }

struct ScanShape {
  int64_t batch = 0, steps = 0, channels = 0, states = 0;  // B, T, C, N
};

struct ScanForwardArgs {
  ScanShape shape;
  ScanDtype dtype = ScanDtype::Float32;  // of u, dt, Bm, Cm and y
  const void *u = nullptr, *dt = nullptr;     // [B, T, C]
  const float* At = nullptr;                  // [N, C]  (A transposed)
  const void *Bm = nullptr, *Cm = nullptr;    // [B, T, N]
  const float* h0 = nullptr;                  // [B, C, N]
  void* y = nullptr;                          // [B, T, C]  out
  float* last_state = nullptr;                // [B, C, N]  out
  float* checkpoints = nullptr;               // [B, scan_chunk_count(T), N, C]  out, kept for the backward
};

struct ScanBackwardArgs {
  ScanShape shape;
  ScanDtype dtype = ScanDtype::Float32;  // of u, dt, Bm, Cm, dy, du and ddt
  const void *u = nullptr, *dt = nullptr;
  const float* At = nullptr;
  const void *Bm = nullptr, *Cm = nullptr;
  const float* checkpoints = nullptr;         // the forward's
  const void* dy = nullptr;                   // [B, T, C], or null: no gradient on y
  const float* dlast = nullptr;               // [B, C, N], or null: no gradient on the last state
  void *du = nullptr, *ddt = nullptr;         // [B, T, C]  out
  float* dAt = nullptr;                       // [N, C]  out, zeroed by the caller (summed with atomics)
  float *dBm = nullptr, *dCm = nullptr;       // [B, T, N]  out, zeroed by the caller (summed with atomics)
  float* dh0 = nullptr;                       // [B, C, N]  out
};

// Launch the kernels on `stream` (nothing waits for them). They throw std::invalid_argument for shapes they
// refuse (N > kMaxScanState, a batch beyond the grid) and std::runtime_error when CUDA reports an error;
// both messages start with "ssm CUDA scan:". Empty batches or channels launch nothing.
[[gnu::visibility("hidden")]] void launch_scan_forward(const ScanForwardArgs& args, void* stream);
[[gnu::visibility("hidden")]] void launch_scan_backward(const ScanBackwardArgs& args, void* stream);

}  // namespace memtx::ssm::cuda

#ifndef __CUDACC__
#include "selective_scan.hpp"

namespace memtx::ssm {

// Whether this build has the CUDA kernels (MEMTX_WITH_CUDA); says nothing about a GPU being present.
bool cuda_scan_compiled();

// The scan on CUDA tensors with the kernels above, differentiable in every input (dy and the last state's
// gradient may each be absent). u, dt, Bm, Cm float32 or bfloat16 (one dtype), A and h0 float32, all on one
// CUDA device, N <= 64; y comes back in u's dtype, the last state in float32. Error(InvalidArgument) naming the
// tensor for wrong shapes, dtypes or devices (CPU tensors included), and in a build without the kernels.
ScanResult cuda_scan(const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& A, const torch::Tensor& Bm,
                     const torch::Tensor& Cm, const torch::Tensor& h0);

}  // namespace memtx::ssm
#endif
