// memtx/torch_compat.hpp: the one place where LibTorch 1.13 (Debian, CPU) and 2.x (CUDA) differ for memtx.
#pragma once
#include <torch/torch.h>
#include <torch/version.h>

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

}  // namespace memtx::compat
