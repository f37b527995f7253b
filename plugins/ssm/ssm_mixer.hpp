// ssm/ssm_mixer.hpp: the Mamba mixer (Gu and Dao 2023), with Hugging Face MambaMixer's parameter names.
//   [u, z] = in_proj(x)                          D -> 2 d_inner (d_inner = expand D; bias = ssm_io_bias)
//   u = SiLU(conv1d(u))                           depthwise, causal: kernel k, left padding k - 1, with bias
//   [dt_low, B, C] = x_proj(u)                    d_inner -> dt_rank + 2 d_state, no bias
//   dt = softplus(dt_proj(dt_low))                dt_rank -> d_inner, with bias
//   A = -exp(A_log)                               [d_inner, d_state]
//   h_t = exp(dt_t A) * h_{t-1} + dt_t B_t u_t ;  y_t = C_t . h_t + D * u_t     (float32 state, selective_scan.hpp;
//                                                   the CUDA kernel reads bf16 u, dt, B, C under autocast)
//   out = out_proj(y * SiLU(z))                   d_inner -> D (bias = ssm_io_bias)
// Streaming state (ctx.state): "conv" [B, d_inner, k-1] (the last k-1 conv inputs, model dtype) and "h"
// [B, d_inner, d_state] (float32). Feeding a sequence in pieces gives the output of feeding it whole.
// Scan: attention.ssm_scan (auto | sequential | chunked: the CPU loop, or the CUDA kernel on CUDA), see
// selective_scan.hpp.
// Weight decay: A_log and D must not be decayed (as in the reference). Their names are part of this
// variant's contract: a trainer recognises them by the last name component, "A_log" and "D"
// (layers.<i>.attn.A_log, layers.<i>.attn.D), as memtx's parameter groups do.
#pragma once
#include <memtx/attention.hpp>

#include "selective_scan.hpp"

namespace memtx::ssm {

struct SsmOptions {
  int64_t d_inner = 0, d_state = 0, dt_rank = 0, conv_kernel = 0;
  bool io_bias = false;
  ScanKind scan = ScanKind::Auto;
  static SsmOptions from_spec(const AttentionSpec& spec);
};

class SsmMixerImpl : public AttentionModuleImpl {
 public:
  explicit SsmMixerImpl(const AttentionSpec& spec);
  torch::Tensor forward(const torch::Tensor& x, AttentionContext& ctx) override;
  bool is_recurrent() const override { return true; }
  LayerState initial_state(int64_t batch, const torch::TensorOptions& options) override;
  void reset_parameters(double init_std) override;
  std::vector<std::string> projection_names() const override;
  std::vector<std::string> no_decay_parameters() const override { return {"A_log", "D"}; }
  void set_scan(ScanKind kind) { opt_.scan = kind; }  // for benchmarks; configs use attention.ssm_scan

  torch::nn::Linear in_proj{nullptr}, x_proj{nullptr}, dt_proj{nullptr}, out_proj{nullptr};
  torch::nn::Conv1d conv1d{nullptr};
  torch::Tensor A_log, D;

 private:
  // The stored state, or zeros when absent; Error(InvalidArgument) when present with the wrong shape.
  torch::Tensor state_or_zeros(const LayerState* state, const std::string& key, std::vector<int64_t> shape,
                               const torch::TensorOptions& options) const;
  int64_t hidden_dim_;
  SsmOptions opt_;
};
TORCH_MODULE(SsmMixer);

}  // namespace memtx::ssm
