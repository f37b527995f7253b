// common/qkvo_projections.hpp: the q/k/v/o projections of a multi-head attention layer, registered on the layer
// module in one place (causal, infini, linear).
//   q_proj: D -> H d_qk,  k_proj: D -> G d_qk,  v_proj: D -> G d_v  (bias: model.attention_bias, spec.qkv_bias)
//   o_proj: o_in -> D  (bias: spec.out_bias)
// with D = spec.hidden_dim, H = spec.num_heads, G = spec.num_kv_heads (grouped-query attention when G < H).
// The modules are created and registered in the order q, k, v, o: torch draws each one's initial weights when it
// is created, so this order (and the names, which checkpoints and LoRA targets use) must not change.
#pragma once
#include <memtx/attention.hpp>

#include <string>

namespace memtx::common {

struct QkvProjections {
  torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr};
};

struct QkvoProjections {
  torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};
};

// A Linear in -> out with or without bias, registered on `module` under `name`.
torch::nn::Linear register_linear(torch::nn::Module& module, const std::string& name, int64_t in, int64_t out,
                                  bool bias);

// q_proj, k_proj, v_proj (in that order) with d_qk = qk_head_dim and d_v = v_head_dim.
QkvProjections register_qkv_projections(torch::nn::Module& module, const AttentionSpec& spec, int64_t qk_head_dim,
                                        int64_t v_head_dim);

// q_proj, k_proj, v_proj and o_proj (in that order) with d_qk = d_v = spec.head_dim and o_in = H d: heads
// concatenated into the output projection.
QkvoProjections register_qkvo_projections(torch::nn::Module& module, const AttentionSpec& spec);

}  // namespace memtx::common
