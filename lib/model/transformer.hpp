// model/transformer.hpp: the decoder. tokens -> embed_tokens -> blocks -> norm -> lm_head (or tied).
//   block: h = x + drop(attn(attn_norm(x)));  y = h + drop(mlp(mlp_norm(h)))   (pre-norm, residuals)
//   Blocks chosen by memory.memory_layer_placement also hold a memory sublayer (model/memory_sublayer.hpp),
//   between attention and MLP (memory.memory_block_variant A) or after the MLP followed by a second MLP (B);
//   its bank is one of memory_banks.<j> (model/memory_layout.hpp maps blocks to banks). A memory layer's
//   router window lives in its block's LayerState under keys "memory.*".
// Each block's attention is the layer's variant, created through the plugin registry. Parameter names
// (embed_tokens.weight, layers.<i>.attn.q_proj.weight, layers.<i>.mlp.up_proj.weight, norm.weight,
// lm_head.weight) are what checkpoints and memtx_model_describe use.
#pragma once
#include <functional>
#include <map>
#include <set>
#include <vector>
#include <string>

#include "model/grad_checkpoint.hpp"
#include "model/layers.hpp"
#include "model/memory_layout.hpp"
#include "model/memory_sublayer.hpp"
#include "model/model_spec.hpp"

namespace memtx {

// Per-sequence state of every layer (recurrent memories, KV caches), carried between calls.
// A parameter of an adapter-mode model that its pretrained base cannot provide: it belongs to a layer of another
// attention variant than the base's (Infini-attention's gate over a Qwen2 base), so it keeps the value its
// variant gave it (model/hf_import.hpp load_hf_weights).
struct NewParameter {
  std::string name;         // "layers.0.attn.balance"
  std::string explanation;  // why it is new and how it is initialised, for the user
};

struct ModelState {
  std::vector<LayerState> layers;
  int64_t position = 0;  // tokens consumed so far (absolute position of the next token)
};

class MEMTX_API BlockImpl : public torch::nn::Module {
 public:
  // memory (optional): the block's memory sublayer, run after the MLP when memory_after_mlp (variant B).
  BlockImpl(const ModelSpec& spec, int64_t index, std::shared_ptr<AttentionModuleImpl> attention,
            MemorySublayer memory = MemorySublayer{nullptr}, bool memory_after_mlp = false);
  torch::Tensor forward(const torch::Tensor& x, AttentionContext& ctx,
                        std::map<std::string, torch::Tensor>* capture);
  // True when the memory sublayer leaves a router loss in auxiliary_loss() (not recomputed under checkpointing).
  bool has_router_loss() const { return memory && memory->cross_attn->has_router_loss(); }
  Norm attn_norm{nullptr}, mlp_norm{nullptr};
  std::shared_ptr<AttentionModuleImpl> attn;
  Mlp mlp{nullptr};
  MemorySublayer memory{nullptr};  // null in blocks without memory

 private:
  int64_t index_;
  double dropout_;
  bool memory_after_mlp_ = false;
};
TORCH_MODULE(Block);

class MEMTX_API TransformerImpl : public torch::nn::Module {
 public:
  // Keeps its own copy of the config (variants may read it while being built).
  TransformerImpl(const Config& config, const Registry& registry);

  // tokens [B, T] int64 -> logits [B, T, vocab]. With a state, the call continues the sequence the state
  // holds (positions, caches, memories); use_cache appends keys/values for later decoding steps.
  // capture (optional) receives "layers.<i>.attn.in" / ".out" for every layer (of the last segment).
  // The segment engine: when a layer asks for segments (AttentionModuleImpl::segment_length(), e.g. infini),
  // the input is cut at the absolute positions k * segment_length and each piece runs through all layers in
  // turn, carrying every layer's state (a fresh state when the caller gives none); at each segment start the
  // non-recurrent layers get a fresh state, so softmax attends within the segment. Back-propagation runs
  // through the carried state, cut (detached) every detach_every() segments of its layers (the smallest > 0;
  // infini: infini_attention.detach_every).
  // Training, evaluation, generation and sessions all go through this one loop.
  torch::Tensor forward(const torch::Tensor& tokens, ModelState* state = nullptr, bool use_cache = false,
                        std::map<std::string, torch::Tensor>* capture = nullptr);
  ModelState initial_state(int64_t batch);

  const ModelSpec& spec() const { return spec_; }
  // Where the model is now: its parameters' device (spec().device is where it was built; to() moves it).
  // Inputs and fresh state go here.
  torch::Device device() const;
  const Config& config() const { return *config_; }
  Config& mutable_config() { return *config_; }  // for changes that keep the structure (merge_lora)
  std::string describe_json() const;  // layers, variants, parameter counts, dims, device, dtype

  // Gradient checkpointing (training.gradient_checkpointing): in training mode with gradients recorded, every
  // block recomputes its activations in the backward pass (model/grad_checkpoint.hpp); a block run on a segment
  // with its carried state keeps only its input and that state, per segment, and returns its attention's
  // auxiliary loss as one more output so that loss keeps its gradient. Blocks with a memory router loss are not
  // recomputed, nor (after their first step) whole-input blocks whose attention has an auxiliary loss. Off by
  // default; the trainer turns it on.
  void set_gradient_checkpointing(bool on) { gradient_checkpointing_ = on; }
  bool gradient_checkpointing() const { return gradient_checkpointing_; }
  // What the layers' forward calls get as AttentionContext::global_batch (the trainer sets it around a
  // data-parallel micro-batch every rank has rows of; null otherwise). Not owned.
  void set_global_batch(const GlobalBatch* global) { global_batch_ = global; }
  // The segment length the model runs in; 0 when no layer asks for segments.
  int64_t segment_length() const { return segment_length_; }
  // Segments between the cuts of the carried state in one forward call; 0 when it is never cut.
  int64_t detach_every() const { return detach_every_; }

  // The layers' losses of the last forward, over all of its segments (each segment's value weighted by its
  // share of the tokens; one segment = the blocks' own values): the sum of every attention and memory sublayer's
  // auxiliary_loss() (undefined when none has one), and the memory routers' unweighted losses by
  // "layers.<i>.memory.<name>".
  const torch::Tensor& auxiliary_loss() const { return auxiliary_loss_; }
  const std::map<std::string, torch::Tensor>& router_losses() const { return router_losses_; }

  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  std::vector<Block> blocks;
  Norm norm{nullptr};
  torch::nn::Linear lm_head{nullptr};  // null when tied to embed_tokens
  // The memory banks, registered once as "memory_banks.<j>" (null list when there are none), and which block
  // reads which bank.
  torch::nn::ModuleList memory_banks{nullptr};
  std::vector<std::shared_ptr<MemoryBankImpl>> banks;
  const MemoryLayout& memory_layout() const { return memory_layout_; }

  // Adapter mode: the parameters the base folder could not provide (layers of another variant than the base's,
  // e.g. Infini-attention's gates), as attach_adapters found them.
  const std::vector<NewParameter>& new_parameters() const { return new_parameters_; }
  void set_new_parameters(std::vector<NewParameter> added) { new_parameters_ = std::move(added); }
  // Adapter mode with a frozen base: the base folder's fingerprint (model/adapter.hpp), else "".
  const std::string& base_fingerprint() const { return base_fingerprint_; }
  void set_base_fingerprint(std::string fingerprint) { base_fingerprint_ = std::move(fingerprint); }

 private:
  void initialize();
  std::unique_ptr<Config> config_;
  ModelSpec spec_;
  MemoryLayout memory_layout_;
  torch::Tensor run_segments(const torch::Tensor& tokens, ModelState* state, bool use_cache,
                             std::map<std::string, torch::Tensor>* capture);
  torch::Tensor run_blocks(const torch::Tensor& tokens, ModelState* state, bool use_cache,
                           std::map<std::string, torch::Tensor>* capture);
  void add_layer_losses(double weight);  // the blocks' current losses, times weight, into the two below
  std::string base_fingerprint_;
  std::vector<NewParameter> new_parameters_;
  torch::Tensor auxiliary_loss_;
  std::map<std::string, torch::Tensor> router_losses_;
  // Block i's attention auxiliary loss of the current run_blocks call, as the loss must see it: under
  // per-segment checkpointing the checkpoint's own output (which carries the gradient), else the layer's value.
  std::vector<torch::Tensor> attention_losses_;
  std::set<size_t> plain_blocks_;  // blocks whose attention has an auxiliary loss: never whole-input checkpointed
  int64_t segment_length_ = 0;
  int64_t detach_every_ = 0;
  const GlobalBatch* global_batch_ = nullptr;
  bool bounded_positions_ = false;  // a layer sees every position so far: inputs stop at model.max_seq_len
  bool gradient_checkpointing_ = false;
  std::vector<std::function<torch::Tensor(const torch::Tensor&)>> checkpoint_bodies_;  // one per block
  std::vector<StatefulBody> segment_bodies_;  // one per block: a segment with the block's carried state
  // Block i on x with its state under gradient checkpointing (the stateful form of grad_checkpoint.hpp).
  torch::Tensor checkpointed_segment(size_t i, const torch::Tensor& x, AttentionContext& ctx);
};
TORCH_MODULE(Transformer);

}  // namespace memtx
