// memtx/torch_compat.hpp: the one place where LibTorch versions differ for memtx. memtx supports LibTorch 2.x
// (the pinned wheel of scripts/requirements.txt); the 1.13 branches are gone. What is here wraps the 2.x calls
// whose signatures moved between minor versions (autocast by device type since 2.4, SDPA's scale since 2.1 and
// enable_gqa since 2.5), so the rest of the code names one function for each.
#pragma once
#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#define MEMTX_TORCH_MAJOR TORCH_VERSION_MAJOR
#define MEMTX_TORCH_MINOR TORCH_VERSION_MINOR
#if defined(_GLIBCXX_USE_CXX11_ABI)
#define MEMTX_CXX11_ABI _GLIBCXX_USE_CXX11_ABI
#else
#define MEMTX_CXX11_ABI 0
#endif

#if TORCH_VERSION_MAJOR < 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR < 5)
#error "memtx needs LibTorch 2.5 or newer (scripts/requirements.txt pins the supported version)"
#endif

namespace memtx::compat {

// True when the fused scaled-dot-product attention exists in this LibTorch (always, on 2.x).
constexpr bool has_fused_sdpa() { return true; }

// Scaled dot-product attention: q [B,H,Tq,d], k/v [B,Hkv,Tk,d*] with H a multiple of Hkv (grouped-query
// attention without copying k/v when Hkv < H). attn_mask: optional bool (true = keep) or additive float mask
// broadcastable to [B,H,Tq,Tk]. scale: the factor of q.k (default 1/sqrt(d)).
inline torch::Tensor sdpa(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                          const std::optional<torch::Tensor>& attn_mask, bool is_causal, double dropout_p = 0.0,
                          std::optional<double> scale = std::nullopt) {
  const bool gqa = q.size(-3) != k.size(-3);
  return at::scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal, scale, gqa);
}

// Turns autocast on or off for one device type (CPU or CUDA), with the dtype it casts to when on.
inline void set_autocast(c10::DeviceType device, bool enabled, c10::ScalarType dtype) {
  at::autocast::set_autocast_enabled(device, enabled);
  if (enabled) at::autocast::set_autocast_dtype(device, dtype);
}

struct AutocastState {
  bool enabled = false;
  c10::ScalarType dtype = c10::ScalarType::Float;
};

// Whether autocast is on for a device type on this thread, and its dtype.
inline AutocastState autocast_state(c10::DeviceType device) {
  return {at::autocast::is_autocast_enabled(device), at::autocast::get_autocast_dtype(device)};
}

}  // namespace memtx::compat
