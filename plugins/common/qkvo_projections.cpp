// common/qkvo_projections.cpp: registration of the q/k/v/o projections (shapes in qkvo_projections.hpp).
#include "qkvo_projections.hpp"

namespace memtx::common {

torch::nn::Linear register_linear(torch::nn::Module& module, const std::string& name, int64_t in, int64_t out,
                                  bool bias) {
  return module.register_module(name, torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias)));
}

QkvProjections register_qkv_projections(torch::nn::Module& module, const AttentionSpec& spec, int64_t qk_head_dim,
                                        int64_t v_head_dim) {
  const int64_t D = spec.hidden_dim, H = spec.num_heads, G = spec.num_kv_heads;
  QkvProjections p;
  p.q = register_linear(module, "q_proj", D, H * qk_head_dim, spec.qkv_bias);
  p.k = register_linear(module, "k_proj", D, G * qk_head_dim, spec.qkv_bias);
  p.v = register_linear(module, "v_proj", D, G * v_head_dim, spec.qkv_bias);
  return p;
}

QkvoProjections register_qkvo_projections(torch::nn::Module& module, const AttentionSpec& spec) {
  const int64_t d = spec.head_dim;
  auto qkv = register_qkv_projections(module, spec, d, d);
  auto o = register_linear(module, "o_proj", spec.num_heads * d, spec.hidden_dim, spec.out_bias);
  return {qkv.q, qkv.k, qkv.v, o};
}

}  // namespace memtx::common
