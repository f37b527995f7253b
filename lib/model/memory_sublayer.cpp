// model/memory_sublayer.cpp: the block's memory sublayer and its creation (see memory_sublayer.hpp).
#include "model/memory_sublayer.hpp"

#include "memtx/error.hpp"

namespace memtx {
namespace {

// Owner of a bank made by plugin code: releases the bank, then the layer that made it, whose handle keeps
// the plugin library loaded (the bank's code lives there). The layers hold the bank without this owner, so
// no cycle forms.
struct BankOwner {
  std::shared_ptr<MemoryBankImpl> bank;
  std::shared_ptr<AttentionModuleImpl> maker;
  void operator()(MemoryBankImpl* /*raw*/) {
    bank.reset();
    maker.reset();
  }
};

}  // namespace

MemorySublayerImpl::MemorySublayerImpl(const ModelSpec& spec, std::shared_ptr<MemoryLayerImpl> layer, bool with_mlp)
    : dropout_(spec.dropout) {
  norm = register_module("norm", Norm(spec.hidden_dim, spec.norm_eps, spec.use_rms_norm));
  cross_attn = register_module("cross_attn", std::move(layer));
  if (with_mlp) {
    mlp_norm = register_module("mlp_norm", Norm(spec.hidden_dim, spec.norm_eps, spec.use_rms_norm));
    mlp = register_module("mlp", Mlp(spec.hidden_dim, spec.intermediate_dim, spec.swiglu, spec.mlp_bias));
  }
}

torch::Tensor MemorySublayerImpl::forward(const torch::Tensor& h, AttentionContext& ctx) {
  auto out = h + torch::dropout(cross_attn->forward(norm->forward(h), ctx), dropout_, is_training());
  if (!mlp) return out;
  return out + torch::dropout(mlp->forward(mlp_norm->forward(out)), dropout_, is_training());
}

void MemorySublayerImpl::reset_parameters(double init_std, bool zero_output) {
  cross_attn->reset_parameters(init_std);
  if (!mlp) return;
  torch::NoGradGuard no_grad;
  for (auto& p : mlp->named_parameters()) {
    if (p.key().find("bias") != std::string::npos || (zero_output && p.key() == "down_proj.weight")) p.value().zero_();
    else p.value().normal_(0.0, init_std);
  }
}

MemorySublayer make_memory_sublayer(const ModelSpec& spec, const Registry& registry, int64_t layer,
                                    std::shared_ptr<MemoryBankImpl>& bank) {
  AttentionSpec layer_spec = spec.layer_spec(layer);
  layer_spec.variant = "memory";
  std::shared_ptr<AttentionModuleImpl> created = registry.create("memory", layer_spec);
  auto memory_layer = std::dynamic_pointer_cast<MemoryLayerImpl>(created);
  if (!memory_layer) {
    const VariantDesc* desc = registry.find("memory");
    throw Error(StatusCode::Plugin, "the registered variant 'memory' (" + (desc ? desc->plugin_file : std::string("?")) +
                                        ") does not implement memtx::MemoryLayerImpl (memtx/memory.hpp)");
  }
  if (!bank) {
    std::shared_ptr<MemoryBankImpl> made = memory_layer->make_bank();
    if (!made) throw Error(StatusCode::Plugin, "the 'memory' variant's make_bank() returned no bank");
    MemoryBankImpl* raw = made.get();
    bank = std::shared_ptr<MemoryBankImpl>(raw, BankOwner{made, created});
    memory_layer->bind_bank(std::move(made));
  } else {
    // The layers of a group read the same bank object (the owner's handle is only the model's).
    auto* owner = std::get_deleter<BankOwner>(bank);
    memory_layer->bind_bank(owner ? owner->bank : bank);
  }
  const bool variant_b = spec.attention.config->get_string("memory.memory_block_variant") == "B";
  return MemorySublayer(spec, std::move(memory_layer), variant_b && spec.use_mlp);
}

}  // namespace memtx
