// memtx/torch_compat.hpp: the one place where LibTorch 1.13 (Debian, CPU) and 2.x (CUDA) differ for memtx.
#pragma once
#include <torch/torch.h>
#include <torch/version.h>
#include <ATen/autocast_mode.h>

#define MEMTX_TORCH_MAJOR TORCH_VERSION_MAJOR
#define MEMTX_TORCH_MINOR TORCH_VERSION_MINOR
#if defined(_GLIBCXX_USE_CXX11_ABI)
#define MEMTX_CXX11_ABI _GLIBCXX_USE_CXX11_ABI
#else
#define MEMTX_CXX11_ABI 0
#endif

namespace memtx::compat {

// True when the fused scaled-dot-product attention exists in this LibTorch.
constexpr bool has_fused_sdpa() {
#if TORCH_VERSION_MAJOR >= 2
  return true;
#elif TORCH_VERSION_MAJOR == 1 && TORCH_VERSION_MINOR >= 13
  return true;
#else
  return false;
#endif
}

// Scaled dot-product attention with the default 1/sqrt(d) scale. q [B,H,Tq,d], k/v [B,H,Tk,d*].
// attn_mask: optional bool (true = keep) or additive float mask broadcastable to [B,H,Tq,Tk].
inline torch::Tensor sdpa(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                          const c10::optional<torch::Tensor>& attn_mask, bool is_causal, double dropout_p = 0.0) {
#if TORCH_VERSION_MAJOR >= 2
  return at::scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal);
#else
  return std::get<0>(at::_scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, false, is_causal));
#endif
}

// Turns autocast on or off for one device type (CPU or CUDA), with the dtype it casts to when on.
inline void set_autocast(c10::DeviceType device, bool enabled, c10::ScalarType dtype) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_enabled(device, enabled);
  if (enabled) at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == c10::DeviceType::CUDA) {
    at::autocast::set_enabled(enabled);
    if (enabled) at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    if (enabled) at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

struct AutocastState {
  bool enabled = false;
  c10::ScalarType dtype = c10::ScalarType::Float;
};

// Whether autocast is on for a device type on this thread, and its dtype.
inline AutocastState autocast_state(c10::DeviceType device) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  return {at::autocast::is_autocast_enabled(device), at::autocast::get_autocast_dtype(device)};
#else
  if (device == c10::DeviceType::CUDA) return {at::autocast::is_enabled(), at::autocast::get_autocast_gpu_dtype()};
  return {at::autocast::is_cpu_enabled(), at::autocast::get_autocast_cpu_dtype()};
#endif
}

}  // namespace memtx::compat
