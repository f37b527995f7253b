// linear/linear_attention.hpp: causal linear attention (Katharopoulos et al. 2020 form, memtx variant "linear").
//   q = x Wq (H heads), k = x Wk, v = x Wv (G kv heads; query head h uses kv head h / (H/G)); no RoPE.
//   phi(u) = ELU(u) + 1;  o_t = phi(q_t) S_t / (phi(q_t) z_t + eps)  with S_t = sum_{j<=t} phi(k_j)^T v_j and
//   z_t = sum_{j<=t} phi(k_j) (linear_scan.hpp: chunked, attention.linear_chunk_size); concat heads, Wo.
// Streaming state (ctx.state): "S" [B, G, d_k, d_v] and "z" [B, G, d_k] (float32, float64 for a float64
// model). A call continues the sequence the state holds (ctx.use_cache is not needed): feeding a sequence in
// pieces of any size gives the output of feeding it whole, with a state of constant size.
#pragma once
#include <memtx/attention.hpp>

namespace memtx::linear {

class LinearAttentionImpl : public AttentionModuleImpl {
 public:
  explicit LinearAttentionImpl(const AttentionSpec& spec);
  torch::Tensor forward(const torch::Tensor& x, AttentionContext& ctx) override;
  bool is_recurrent() const override { return true; }
  LayerState initial_state(int64_t batch, const torch::TensorOptions& options) override;
  std::vector<std::string> projection_names() const override { return {"q_proj", "k_proj", "v_proj", "o_proj"}; }

  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  torch::Tensor state_or_zeros(const LayerState* state, const std::string& key, const std::vector<int64_t>& shape,
                               const torch::TensorOptions& options) const;
  AttentionSpec spec_;
  int64_t chunk_ = 64;
};
TORCH_MODULE(LinearAttention);

}  // namespace memtx::linear
