// model/memory_sublayer.hpp: the memory part of a block, pre-norm with a residual, around the memory
// plugin's cross-attention (memtx/memory.hpp):
//   h' = h + drop(cross_attn(norm(h)))
//   block variant B adds the block's second MLP:  h'' = h' + drop(mlp(mlp_norm(h')))
// The block calls it after self-attention (variant A: self-attn, memory, MLP) or after its MLP (variant B:
// self-attn, MLP, memory, MLP). Parameter names layers.<i>.memory.{norm, cross_attn, mlp_norm, mlp}.* all
// contain ".memory." (training.memory_lr). With memory.wo_init_zero the cross-attention's output projection
// and the second MLP's down projection start at 0, so the sublayer starts as the identity.
#pragma once
#include <memory>

#include "memtx/memory.hpp"
#include "model/layers.hpp"
#include "model/model_spec.hpp"

namespace memtx {

class MEMTX_API MemorySublayerImpl : public torch::nn::Module {
 public:
  MemorySublayerImpl(const ModelSpec& spec, std::shared_ptr<MemoryLayerImpl> cross_attn, bool with_mlp);
  torch::Tensor forward(const torch::Tensor& h, AttentionContext& ctx);
  // The cross-attention's own initialisation, then the MLP's (weights N(0, init_std), biases 0, down_proj 0
  // when zero_output).
  void reset_parameters(double init_std, bool zero_output);

  Norm norm{nullptr}, mlp_norm{nullptr};
  std::shared_ptr<MemoryLayerImpl> cross_attn;
  Mlp mlp{nullptr};  // variant B only

 private:
  double dropout_;
};
TORCH_MODULE(MemorySublayer);

// Creates the "memory" variant for block `layer` through the registry and binds it to `bank`, creating the
// bank with the layer's make_bank() when it is null (the first layer of its sharing group). The bank handed
// back keeps the plugin library loaded for as long as it lives. Error(Plugin) when the registered "memory"
// variant does not implement MemoryLayerImpl.
MEMTX_API MemorySublayer make_memory_sublayer(const ModelSpec& spec, const Registry& registry, int64_t layer,
                                              std::shared_ptr<MemoryBankImpl>& bank);

}  // namespace memtx
