// model/lora.hpp: LoRA (low-rank adaptation, Hu et al. 2021) on the named linear projections of a model's
// layers (memory.use_lora / memory.use_both_memory_and_lora, lora_rank, lora_alpha, lora_dropout, lora_targets).
//   y = x W^T + b + s * dropout(x) A^T B^T,   s = lora_alpha / lora_rank,
//   A [r, in] ~ Kaiming-uniform (bound 1/sqrt(in)), B [out, r] = 0, so a new adapter leaves y unchanged.
// How it reaches the layers: a variant calls its projections through its own torch::nn::Linear members, so a
// module swapped in under the same name would never be called. Instead the targeted Linear is re-registered
// inside a LoraLinear under its old name (parameters "...q_proj.weight", "...q_proj.bias", plus the new
// "...q_proj.lora_A" and "...q_proj.lora_B", which param_groups puts in the "lora" group by their "lora_"), and
// at the start of every model forward refresh_lora() points the Linear's weight member at the effective weight
//   W_eff = W + s * B (A diag(m)),
// so the variant's own x W_eff^T + b is the formula above (m: see dropout below), gradients flow to A and B (and to W
// when it is trainable), and code that reads the projection's weight (MLA's absorbed decoding) sees W_eff.
// Works for every variant, out-of-tree plugins included. Dropout: m holds one inverted-dropout mask over the
// input features per model forward (training mode only), shared by every token of that forward; this is
// dropout on the adapter's input features, with the mask drawn per forward rather than per token.
// Without gradients and dropout (inference) W_eff is cached until W, A or B change. Costs against an
// activation-side adapter: the backward pass forms dL/dW_eff ([out, in], as full fine-tuning of that projection
// would), and with bfloat16/float16 storage W_eff is rounded to that type, so a delta s B A smaller than half a
// unit in the last place of W's entries does not show in the forward yet (it still gets its gradient).
// merge_lora() folds s B A into W and removes the adapters (export).
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "memtx/config.hpp"
#include "memtx/export.h"

namespace memtx {

class TransformerImpl;

struct LoraSettings {
  int64_t rank = 16;
  double alpha = 32.0;
  double dropout = 0.05;
  std::vector<std::string> targets;  // projection names (q_proj, v_proj, ...)
  double scale() const { return alpha / static_cast<double>(rank); }
  static LoraSettings from_config(const Config& config);
};

// LoRA is on when memory.vanilla_mode is false and memory.use_lora or memory.use_both_memory_and_lora is true.
MEMTX_API bool lora_enabled(const Config& config);

class MEMTX_API LoraLinearImpl : public torch::nn::Module {
 public:
  // Takes over base's parameters (registered here as "weight" and "bias") and adds lora_A and lora_B with base's
  // dtype and device, drawing A from the default generator.
  LoraLinearImpl(torch::nn::Linear base, int64_t rank, double scale, double dropout);
  // Points base's weight member at W_eff (see the file comment); called by refresh_lora before each forward.
  void refresh();
  // W + s * B A (no dropout), detached.
  torch::Tensor merged_weight() const;
  // Folds s * B A into W in place and points base's weight member back at W.
  void merge();
  // base->forward(x) after a refresh (for tests and direct use).
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear base;         // the layer's own module (its forward is what the variant calls)
  torch::Tensor weight, bias;     // base's parameters (bias undefined when base has none)
  torch::Tensor lora_A, lora_B;   // [r, in], [out, r]
  double scale, dropout;

 private:
  struct Key {
    const void* w = nullptr;
    const void* a = nullptr;
    const void* b = nullptr;
    int64_t vw = -1, va = -1, vb = -1;
    bool operator==(const Key& o) const {
      return w == o.w && a == o.a && b == o.b && vw == o.vw && va == o.va && vb == o.vb;
    }
  };
  Key current_key() const;
  bool cached_ = false;  // base->weight holds a graph-free W_eff for cached_key_
  Key cached_key_;
};
TORCH_MODULE(LoraLinear);

// Wraps every projection named in settings.targets in every layer that has it: the names each layer's variant
// lists in projection_names() and the MLP's gate_proj, up_proj, down_proj. Returns the wrapped modules' paths
// ("layers.0.attn.q_proj", ...). Error(Config) when a target is a projection of no layer (the message lists
// the available names), Error(Plugin) when a listed projection is not a torch::nn::Linear submodule,
// Error(InvalidArgument) when a projection is wrapped already.
MEMTX_API std::vector<std::string> add_lora(TransformerImpl& model, const LoraSettings& settings);

// The model's LoRA-wrapped projections, path -> module, in layer order.
MEMTX_API std::vector<std::pair<std::string, LoraLinear>> lora_modules(TransformerImpl& model);

// Refreshes every adapter's effective weight (TransformerImpl::forward calls it first).
MEMTX_API void refresh_lora(TransformerImpl& model);

// Folds every adapter into its projection's weight and puts the plain Linear back in its place (parameter names
// as before LoRA); the model's config then says use_lora: false, use_both_memory_and_lora: false and (adapter
// mode) base_model_name: null, so memtx_model_save writes a standalone model. Returns the number of merged
// projections; 0 (config untouched) when the model has no adapters.
MEMTX_API int64_t merge_lora(TransformerImpl& model);

}  // namespace memtx
