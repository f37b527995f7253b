// ssm/selective_scan_cuda.cu: the host launchers of the CUDA selective scan (declared in selective_scan_cuda.hpp;
// the kernels' bodies and their design are in selective_scan_cuda_kernels.cuh). Plain CUDA C++, no torch.
// Grid: x = blocks of kThreads / G channels, y = batch rows; G (lanes per channel) grows from 1 to 8 while the
// batch x channels threads are few, so that a small batch still spreads over the GPU.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "selective_scan_cuda.hpp"
#include "selective_scan_cuda_kernels.cuh"

namespace memtx::ssm::cuda {
namespace {

using detail::kThreads;
using detail::Split;

static_assert(detail::kChunk == kScanChunk, "the launchers and kernels chunk alike");

template <typename T>
__global__ void __launch_bounds__(kThreads) scan_forward_kernel(detail::ForwardParams<T> p) {
  extern __shared__ float4 scan_smem[];
  detail::forward_block<T>(p, reinterpret_cast<float*>(scan_smem), int(threadIdx.x), int(blockIdx.x), blockIdx.y);
}

template <typename T>
__global__ void __launch_bounds__(kThreads) scan_backward_kernel(detail::BackwardParams<T> p) {
  extern __shared__ float4 scan_smem[];
  detail::backward_block<T>(p, reinterpret_cast<float*>(scan_smem), int(threadIdx.x), int(blockIdx.x), blockIdx.y);
}

constexpr int64_t kTargetThreads = 32768;  // below this many (batch, channel) threads, split states over lanes
constexpr int kMaxLanes = 8;

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string("ssm CUDA scan: ") + what + ": " + cudaGetErrorString(err));
  }
}

// Lanes per channel: a power of two <= 8 and <= N, doubled while batch x channels x lanes < kTargetThreads.
int lanes_for(const ScanShape& s) {
  int lanes = 1;
  while (lanes < kMaxLanes && 2 * lanes <= s.states && s.batch * s.channels * lanes < kTargetThreads) lanes *= 2;
  return lanes;
}

void check_shape(const ScanShape& s, const char* pass) {
  if (s.states < 0 || s.states > kMaxScanState) {
    throw std::invalid_argument("ssm CUDA scan: d_state (N) is " + std::to_string(s.states) + ", the " + pass +
                                " kernel takes N <= " + std::to_string(kMaxScanState));
  }
  if (s.batch > 65535) {
    throw std::invalid_argument("ssm CUDA scan: batch " + std::to_string(s.batch) + " is larger than 65535");
  }
  if (s.batch < 0 || s.steps < 0 || s.channels < 0) throw std::invalid_argument("ssm CUDA scan: negative size");
}

// Opts the kernel in to more than 48 KiB of dynamic shared memory when it needs it (large N).
template <typename Kernel>
void allow_shared(Kernel kernel, size_t bytes) {
  if (bytes <= 48 * 1024) return;
  int device = 0, optin = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device), "cudaDeviceGetAttribute");
  if (bytes > size_t(optin)) {
    throw std::invalid_argument("ssm CUDA scan: this d_state needs " + std::to_string(bytes) +
                                " bytes of shared memory per block; this GPU allows " + std::to_string(optin));
  }
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)), "cudaFuncSetAttribute");
}

dim3 grid_for(const ScanShape& s, const Split& split) {
  const int64_t per_block = split.channels_per_block();
  return dim3(unsigned((s.channels + per_block - 1) / per_block), unsigned(s.batch), 1);
}

template <typename T>
void forward_as(const ScanForwardArgs& a, cudaStream_t stream) {
  const ScanShape& s = a.shape;
  detail::ForwardParams<T> p{static_cast<const T*>(a.u),  static_cast<const T*>(a.dt), a.At,
                             static_cast<const T*>(a.Bm), static_cast<const T*>(a.Cm), a.h0,
                             static_cast<T*>(a.y),        a.last_state,                a.checkpoints,
                             s.batch,                     s.steps,                     s.channels,
                             scan_chunk_count(s.steps),   Split::of(int(s.states), lanes_for(s))};
  const size_t bytes = sizeof(float) * size_t(detail::forward_shared_floats(p.split));
  allow_shared(scan_forward_kernel<T>, bytes);
  scan_forward_kernel<T><<<grid_for(s, p.split), kThreads, bytes, stream>>>(p);
  check(cudaGetLastError(), "forward kernel launch");
}

template <typename T>
void backward_as(const ScanBackwardArgs& a, cudaStream_t stream) {
  const ScanShape& s = a.shape;
  detail::BackwardParams<T> p{static_cast<const T*>(a.u),  static_cast<const T*>(a.dt), a.At,
                              static_cast<const T*>(a.Bm), static_cast<const T*>(a.Cm), a.checkpoints,
                              static_cast<const T*>(a.dy), a.dlast,                      static_cast<T*>(a.du),
                              static_cast<T*>(a.ddt),      a.dAt,                        a.dBm,
                              a.dCm,                       a.dh0,                        s.batch,
                              s.steps,                     s.channels,                   scan_chunk_count(s.steps),
                              Split::of(int(s.states), lanes_for(s))};
  const size_t bytes = sizeof(float) * size_t(detail::backward_shared_floats(p.split));
  allow_shared(scan_backward_kernel<T>, bytes);
  scan_backward_kernel<T><<<grid_for(s, p.split), kThreads, bytes, stream>>>(p);
  check(cudaGetLastError(), "backward kernel launch");
}

}  // namespace

void launch_scan_forward(const ScanForwardArgs& args, void* stream) {
  check_shape(args.shape, "forward");
  if (args.shape.batch == 0 || args.shape.channels == 0) return;
  auto s = static_cast<cudaStream_t>(stream);
  if (args.dtype == ScanDtype::BFloat16) forward_as<__nv_bfloat16>(args, s);
  else forward_as<float>(args, s);
}

void launch_scan_backward(const ScanBackwardArgs& args, void* stream) {
  check_shape(args.shape, "backward");
  if (args.shape.batch == 0 || args.shape.channels == 0) return;
  auto s = static_cast<cudaStream_t>(stream);
  if (args.dtype == ScanDtype::BFloat16) backward_as<__nv_bfloat16>(args, s);
  else backward_as<float>(args, s);
}

}  // namespace memtx::ssm::cuda
