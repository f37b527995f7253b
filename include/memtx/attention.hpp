// memtx/attention.hpp: the C++ interface a plugin implements for one attention variant (the "mixer" of a
// block). A variant is a torch::nn::Module built from an AttentionSpec; memtx calls
// forward(x, ctx) with x = the block's normalised input [B, T, D] and expects [B, T, D] back (before the
// residual add). Recurrent variants (infini, linear, ssm) and KV caches keep per-sequence state in
// ctx.state, which the model's segment engine carries from one segment (or decoding step) to the next.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "memtx/config.hpp"

namespace memtx {

enum class RopeLayout { Half, Interleaved };  // Llama/Qwen2 "rotate half" vs DeepSeek/GPT-J even/odd pairs

// RoPE frequency scaling for longer contexts (model.rope_scaling; the Hugging Face rope_type values). With
// inv_freq_i = theta^(-2i/r), i < r/2:
//   linear:  inv_freq_i / factor (positions interpolated).
//   dynamic: theta' = theta ((factor L / L0) - (factor - 1))^(r / (r - 2)) with L = max(sequence length so far, L0),
//            L0 = original_max_position; the frequencies grow with the sequence (NTK-aware).
//   llama3:  wavelength w_i = 2 pi / inv_freq_i against L0 = original_max_position: w_i < L0 / high_freq_factor
//            unchanged, w_i > L0 / low_freq_factor divided by factor, between them blended with
//            s = (L0 / w_i - low) / (high - low): (1 - s) inv_freq_i / factor + s inv_freq_i.
//   yarn:    dims below the correction range keep inv_freq_i, dims above it use inv_freq_i / factor, a linear ramp
//            between; range [floor(c(beta_fast)), ceil(c(beta_slow))] clipped to [0, r - 1] with
//            c(n) = r ln(L0 / (2 pi n)) / (2 ln theta), L0 = original_max_position; cos and sin are multiplied by
//            attention_factor (default 0.1 ln(factor) + 1).
struct RopeScaling {
  enum class Type { None, Linear, Dynamic, Llama3, Yarn };
  Type type = Type::None;
  double factor = 1.0;
  int64_t original_max_position = 0;  // dynamic, llama3, yarn: the pretraining context length L0
  double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
  double beta_fast = 32.0, beta_slow = 1.0;              // yarn
  double attention_factor = 1.0;                          // yarn (resolved: never 0)
};

// Everything a variant needs to build itself. Derived by the model from the resolved Config.
struct AttentionSpec {
  std::string variant;        // registered name the layer asked for ("causal", "infinite", ...)
  int64_t layer_index = 0;
  int64_t num_layers = 1;
  int64_t hidden_dim = 0;     // D
  int64_t num_heads = 0;      // H
  int64_t num_kv_heads = 0;   // G (divides H)
  int64_t head_dim = 0;       // d (default D / H)
  int64_t max_seq_len = 0;
  bool use_rope = true;
  double rope_theta = 10000.0;
  RopeLayout rope_layout = RopeLayout::Half;
  int64_t rope_dim = 0;       // channels rotated per head (0 = all of head_dim)
  bool qkv_bias = false;      // bias on q/k/v projections (Qwen2)
  bool out_bias = false;      // bias on the output projection
  double norm_eps = 1e-6;
  double attention_dropout = 0.0;
  bool use_flash_attention = true;  // model.use_flash_attention && !attention.disable_flash_attention
  const Config* config = nullptr;   // the whole resolved config: variant options live under "attention."
  RopeScaling rope_scaling;         // model.rope_scaling (ABI 4.2, appended)
};

// Parameters of a layer that train with a learning rate of their own (infini's gates): one optimizer group per
// group name (layers asking for the same name share it), no weight decay.
struct ParameterGroupRequest {
  std::string group;                    // optimizer group name, e.g. "infini_gates"
  std::vector<std::string> parameters;  // names relative to the layer, e.g. "balance"
  double lr = 0.0;                      // peak learning rate (the schedule scales it)
};

// Per-layer, per-sequence state (memory matrices, KV cache, conv tail, ...), batch dimension first.
using LayerState = std::map<std::string, torch::Tensor>;

// Sums over the processes of a data-parallel training run, for a loss defined on statistics of the whole global
// batch (the memory router's load-balance and importance losses). The host passes one in AttentionContext
// only while training with several processes and only when every rank has rows in the micro-batch; null
// otherwise (one process, evaluation, inference), where a layer computes the same loss from its own batch.
// Every rank must call sum() the same number of times in the same order, with tensors of the same shape and
// dtype (a collective runs inside).
class GlobalBatch {
 public:
  virtual ~GlobalBatch() = default;
  // The element-wise sum of t over the ranks. Its gradient reaches this rank's t only, scaled so that the
  // trainer's reduction (each rank's auxiliary loss divided by the number of ranks, gradients summed over the
  // ranks) gives a loss computed from the sum exactly its gradient over the global batch.
  virtual torch::Tensor sum(const torch::Tensor& t) const = 0;
};

struct AttentionContext {
  int64_t start_position = 0;       // absolute position of x[:, 0] (RoPE, cache offsets)
  LayerState* state = nullptr;      // null: stateless call (plain forward over the whole input)
  bool use_cache = false;           // append k/v (or latents) to state for later decoding steps
  // > 0 when the model runs in segments of this length (a layer asked for them, see segment_length()): x never
  // crosses a segment boundary, and at each segment's start the model gives every non-recurrent layer a fresh
  // state, so softmax layers attend within the current segment only.
  int64_t segment_length = 0;
  const GlobalBatch* global_batch = nullptr;  // see GlobalBatch; null outside data-parallel training
};

class AttentionModuleImpl : public torch::nn::Module {
 public:
  ~AttentionModuleImpl() override = default;
  virtual torch::Tensor forward(const torch::Tensor& x, AttentionContext& ctx) = 0;
  // True when the layer carries information from one call to the next in its state (infini, linear, ssm),
  // so a stream can be fed piece by piece with bounded memory.
  virtual bool is_recurrent() const { return false; }
  // Layers defined on fixed segments (infini) return their segment length: the model then runs every input
  // segment by segment (the smallest such length), through all layers, carrying every layer's state.
  // 0 (the default): the layer takes inputs of any length.
  virtual int64_t segment_length() const { return 0; }
  // Fresh state for a batch (empty for stateless variants).
  virtual LayerState initial_state(int64_t batch, const torch::TensorOptions& options) {
    (void)batch;
    (void)options;
    return {};
  }
  // Optional auxiliary loss from the last forward (router losses, ...); undefined tensor when none.
  virtual torch::Tensor auxiliary_loss() { return {}; }
  // Initialises the weights (called once by the model after construction). The default draws every
  // Linear weight from N(0, init_std) and zeroes its bias; variants with special initialisation override.
  virtual void reset_parameters(double init_std) {
    torch::NoGradGuard no_grad;
    for (auto& module : modules(/*include_self=*/false)) {
      if (auto* linear = module->as<torch::nn::Linear>()) {
        linear->weight.normal_(0.0, init_std);
        if (linear->bias.defined()) linear->bias.zero_();
      }
    }
  }
  // Names of the linear projections (registered submodules) that LoRA may target.
  virtual std::vector<std::string> projection_names() const { return {}; }
  // Named scalar diagnostics for the trainer's metrics log, read after a forward (and backward) call: e.g.
  // infini's per-head gate values, memory norms and segment activation statistics. Keys are relative to the
  // layer ("gate.head0"); the caller adds the layer prefix. Empty (the default) when the variant records
  // none or its logging option is off.
  virtual std::map<std::string, double> metrics() { return {}; }
  // Steps between the trainer's reads of metrics(): 0 (the default) when the layer records none.
  virtual int64_t metrics_interval() const { return 0; }
  // Layers run in segments (segment_length() > 0) may ask the model to cut the gradient through the carried
  // state every this many segments (truncated backpropagation through time); 0 (the default): never.
  virtual int64_t detach_every() const { return 0; }
  // Parameters with a learning rate of their own (see ParameterGroupRequest); none by default.
  virtual std::vector<ParameterGroupRequest> parameter_groups() const { return {}; }
  // Last name components of parameters that never get weight decay whatever their shape (a 2-d A_log, a sink
  // logit, a learned score scale); parameters of fewer than 2 dimensions never get it anyway.
  virtual std::vector<std::string> no_decay_parameters() const { return {}; }
};

using AttentionFactory = std::function<std::shared_ptr<AttentionModuleImpl>(const AttentionSpec&)>;

// One registered variant.
struct VariantDesc {
  std::string name;                 // unique in a context, [a-z0-9_]+
  std::string description;
  std::vector<OptionDef> options;   // keys the variant reads (dotted, usually under "attention.")
  std::vector<ConfigRule> rules;    // cross-field rules over its own keys, merged into the context's schema
  AttentionFactory factory;
  bool recurrent = false;
  std::string plugin_file;          // filled in by the host
};

}  // namespace memtx
