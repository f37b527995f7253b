// model/transformer.cpp: decoder assembly, forward pass and description (see transformer.hpp).
#include "model/transformer.hpp"

#include "model/adapter.hpp"
#include "model/grad_checkpoint.hpp"
#include "model/lora.hpp"

#include <nlohmann/json.hpp>

namespace memtx {
namespace {

// The name under which a checkpointed segment returns its attention's auxiliary loss among the state tensors
// (state keys are never empty).
const std::string kAttentionLossOutput;

}  // namespace

BlockImpl::BlockImpl(const ModelSpec& spec, int64_t index, std::shared_ptr<AttentionModuleImpl> attention,
                     MemorySublayer memory_sublayer, bool memory_after_mlp)
    : index_(index), dropout_(spec.dropout), memory_after_mlp_(memory_after_mlp) {
  attn_norm = register_module("attn_norm", Norm(spec.hidden_dim, spec.norm_eps, spec.use_rms_norm));
  attn = register_module("attn", std::move(attention));
  if (spec.use_mlp) {
    mlp_norm = register_module("mlp_norm", Norm(spec.hidden_dim, spec.norm_eps, spec.use_rms_norm));
    mlp = register_module("mlp", Mlp(spec.hidden_dim, spec.intermediate_dim, spec.swiglu, spec.mlp_bias));
  }
  if (memory_sublayer) memory = register_module("memory", memory_sublayer);
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, AttentionContext& ctx,
                                 std::map<std::string, torch::Tensor>* capture) {
  auto a_in = attn_norm->forward(x);
  auto a_out = attn->forward(a_in, ctx);
  if (capture) {
    const std::string prefix = "layers." + std::to_string(index_) + ".attn.";
    (*capture)[prefix + "in"] = a_in.detach();
    (*capture)[prefix + "out"] = a_out.detach();
  }
  auto h = x + torch::dropout(a_out, dropout_, is_training());
  if (memory && !memory_after_mlp_) h = memory->forward(h, ctx);
  if (mlp) h = h + torch::dropout(mlp->forward(mlp_norm->forward(h)), dropout_, is_training());
  if (memory && memory_after_mlp_) h = memory->forward(h, ctx);
  return h;
}

TransformerImpl::TransformerImpl(const Config& config, const Registry& registry)
    : config_(std::make_unique<Config>(resolve_base_model_config(config))),
      spec_(ModelSpec::from_config(*config_, registry)) {
  spec_.attention.config = config_.get();
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(spec_.vocab_size, spec_.hidden_dim));
  layers = register_module("layers", torch::nn::ModuleList());
  memory_layout_ = memtx::memory_layout(MemoryLayoutOptions::from_config(*config_));
  banks.resize(static_cast<size_t>(memory_layout_.num_banks));
  const bool memory_after_mlp = config_->get_string("memory.memory_block_variant") == "B";
  for (int64_t i = 0; i < spec_.num_layers; ++i) {
    auto attention = registry.create(spec_.layer_variants[i], spec_.layer_spec(i));
    MemorySublayer memory{nullptr};
    if (memory_layout_.has_memory(i))
      memory = make_memory_sublayer(spec_, registry, i, banks[static_cast<size_t>(memory_layout_.bank_of_layer[i])]);
    blocks.push_back(Block(spec_, i, std::move(attention), memory, memory_after_mlp));
    layers->push_back(blocks.back());
  }
  if (!banks.empty()) {
    memory_banks = register_module("memory_banks", torch::nn::ModuleList());
    for (auto& bank : banks) memory_banks->push_back(bank);
  }
  norm = register_module("norm", Norm(spec_.hidden_dim, spec_.norm_eps, spec_.use_rms_norm));
  if (!spec_.tie_embeddings) {
    lm_head = register_module("lm_head", torch::nn::Linear(torch::nn::LinearOptions(spec_.hidden_dim, spec_.vocab_size).bias(false)));
  }
  attention_losses_.resize(blocks.size());
  for (size_t i = 0; i < blocks.size(); ++i) {
    checkpoint_bodies_.emplace_back([this, i](const torch::Tensor& x) {
      AttentionContext ctx;
      return blocks[i]->forward(x, ctx, nullptr);
    });
    // inputs: x, then the block's state tensors named by call.state_names; outputs: y, then the state after the
    // segment in key order.
    segment_bodies_.emplace_back([this, i](const std::vector<torch::Tensor>& inputs, const SegmentCall& call,
                                           std::vector<std::string>* output_names) {
      LayerState state;
      for (size_t k = 0; k < call.state_names.size(); ++k) state[call.state_names[k]] = inputs.at(k + 1);
      AttentionContext ctx;
      ctx.start_position = call.start_position;
      ctx.state = &state;
      ctx.use_cache = call.use_cache;
      ctx.segment_length = segment_length_;
      ctx.global_batch = global_batch_;
      std::vector<torch::Tensor> outputs{blocks[i]->forward(inputs.at(0), ctx, nullptr)};
      output_names->clear();
      for (const auto& [name, tensor] : state) {
        if (!tensor.defined()) continue;
        output_names->push_back(name);
        outputs.push_back(tensor);
      }
      // The attention's auxiliary loss leaves as the last output, so the recomputation back-propagates it too.
      if (auto aux = blocks[i]->attn->auxiliary_loss(); aux.defined()) {
        output_names->push_back(kAttentionLossOutput);
        outputs.push_back(aux);
      }
      return outputs;
    });
  }
  for (auto& block : blocks) {
    const int64_t length = block->attn->segment_length();
    if (length > 0) segment_length_ = segment_length_ == 0 ? length : std::min(segment_length_, length);
  }
  for (auto& block : blocks) {  // the smallest interval a segmented layer asks for
    const int64_t every = block->attn->detach_every();
    if (every > 0) detach_every_ = detach_every_ == 0 ? every : std::min(detach_every_, every);
  }
  for (auto& block : blocks) bounded_positions_ = bounded_positions_ || !block->attn->is_recurrent();
  if (segment_length_ > spec_.max_seq_len)
    throw Error(StatusCode::Config, "the model runs in segments of " + std::to_string(segment_length_) +
                                        " tokens, longer than model.max_seq_len (" + std::to_string(spec_.max_seq_len) +
                                        "); raise model.max_seq_len or shorten the segments");
  initialize();
  to(spec_.device, spec_.dtype);
  attach_adapters(*this);  // adapter mode's base weights and freezing, LoRA (model/adapter.hpp)
}

void TransformerImpl::initialize() {
  torch::manual_seed(static_cast<uint64_t>(config_->get_int("model.seed")));
  torch::NoGradGuard no_grad;
  const double std = spec_.init_std;
  embed_tokens->weight.normal_(0.0, std);
  if (lm_head) lm_head->weight.normal_(0.0, std);
  for (auto& block : blocks) {
    block->attn->reset_parameters(std);
    if (block->mlp) {
      for (auto& p : block->mlp->named_parameters()) {
        if (p.key().find("bias") != std::string::npos) p.value().zero_();
        else p.value().normal_(0.0, std);
      }
    }
  }
  // Memory sublayers and banks draw after everything else, so the rest of the model is initialised exactly as
  // without them (with memory.wo_init_zero the model then computes exactly the logits of the model without).
  const bool zero_output = config_->get_bool("memory.wo_init_zero");
  for (auto& block : blocks)
    if (block->memory) block->memory->reset_parameters(std, zero_output);
  for (auto& bank : banks) bank->reset_parameters();
}

torch::Device TransformerImpl::device() const { return embed_tokens->weight.device(); }

ModelState TransformerImpl::initial_state(int64_t batch) {
  ModelState state;
  auto options = torch::TensorOptions().device(device()).dtype(spec_.dtype);
  for (auto& block : blocks) state.layers.push_back(block->attn->initial_state(batch, options));
  return state;
}

torch::Tensor TransformerImpl::forward(const torch::Tensor& tokens, ModelState* state, bool use_cache,
                                       std::map<std::string, torch::Tensor>* capture) {
  if (tokens.dim() != 2 || tokens.scalar_type() != torch::kLong) {
    throw Error(StatusCode::InvalidArgument, "forward: tokens must be int64 [batch, seq_len], got " +
                                                 std::to_string(tokens.dim()) + "-d " +
                                                 std::string(c10::toString(tokens.scalar_type())));
  }
  if (tokens.numel() > 0) {
    // Out-of-range ids would read past the embedding (a device-side assert on CUDA): one min/max, one copy back.
    const auto [min_id, max_id] = torch::aminmax(tokens);
    const torch::Tensor range = torch::stack({min_id, max_id}).to(torch::kCPU);
    const int64_t lo = range[0].item<int64_t>(), hi = range[1].item<int64_t>();
    if (lo < 0 || hi >= spec_.vocab_size) {
      throw Error(StatusCode::InvalidArgument, "forward: token id " + std::to_string(lo < 0 ? lo : hi) +
                                                   " outside the vocabulary [0, " + std::to_string(spec_.vocab_size) + ")");
    }
  }
  if (state && state->layers.size() != blocks.size()) {
    throw Error(StatusCode::InvalidArgument, "forward: state has " + std::to_string(state->layers.size()) +
                                                 " layers, model has " + std::to_string(blocks.size()));
  }
  const int64_t end_position = (state ? state->position : 0) + tokens.size(1);
  if (segment_length_ == 0 && bounded_positions_ && end_position > spec_.max_seq_len) {
    // Softmax layers attend over every position so far; a segmented model attends within segments instead.
    throw Error(StatusCode::InvalidArgument,
                "forward: the sequence reaches position " + std::to_string(end_position) + " but model.max_seq_len is " +
                    std::to_string(spec_.max_seq_len) +
                    " (this model has softmax attention layers that see the whole sequence); shorten the input or "
                    "raise model.max_seq_len");
  }
  refresh_lora(*this);  // LoRA-wrapped projections take their effective weights (model/lora.hpp)
  auxiliary_loss_ = torch::Tensor();
  router_losses_.clear();
  if (segment_length_ == 0) {
    auto logits = run_blocks(tokens, state, use_cache, capture);
    add_layer_losses(1.0);
    return logits;
  }
  return run_segments(tokens, state, use_cache, capture);
}

void TransformerImpl::add_layer_losses(double weight) {
  auto weighted = [weight](const torch::Tensor& t) { return weight == 1.0 ? t : t * weight; };
  for (size_t i = 0; i < blocks.size(); ++i) {
    const auto& block = blocks[i];
    for (const torch::Tensor& aux :
         {attention_losses_[i], block->memory ? block->memory->cross_attn->auxiliary_loss() : torch::Tensor()}) {
      if (!aux.defined()) continue;
      auxiliary_loss_ = auxiliary_loss_.defined() ? auxiliary_loss_ + weighted(aux) : weighted(aux);
    }
    if (!block->memory) continue;
    for (const auto& [name, value] : block->memory->cross_attn->router_losses()) {
      const std::string key = "layers." + std::to_string(i) + ".memory." + name;
      auto it = router_losses_.find(key);
      if (it == router_losses_.end()) router_losses_.emplace(key, weighted(value));
      else it->second = it->second + weighted(value);
    }
  }
}

torch::Tensor TransformerImpl::run_segments(const torch::Tensor& tokens, ModelState* state, bool use_cache,
                                            std::map<std::string, torch::Tensor>* capture) {
  ModelState local;
  if (!state) {
    local = initial_state(tokens.size(0));
    state = &local;
  }
  const int64_t T = tokens.size(1), S = segment_length_;
  std::vector<torch::Tensor> logits;
  int64_t segments_done = 0;
  for (int64_t offset = 0; offset < T;) {
    const int64_t length = std::min(T - offset, S - state->position % S);
    if (state->position % S == 0) {
      // A new segment: softmax layers start afresh; recurrent layers carry their state, detached every
      // detach_every segments of this call (truncated back-propagation through the carried state).
      if (offset > 0) ++segments_done;
      const bool detach = detach_every_ > 0 && segments_done > 0 && segments_done % detach_every_ == 0;
      for (size_t i = 0; i < blocks.size(); ++i) {
        auto& layer = state->layers[i];
        if (!blocks[i]->attn->is_recurrent()) {
          layer = blocks[i]->attn->initial_state(tokens.size(0), torch::TensorOptions().device(device()).dtype(spec_.dtype));
        } else if (detach) {
          for (auto& entry : layer) entry.second = entry.second.detach();
        }
      }
    }
    logits.push_back(run_blocks(tokens.narrow(1, offset, length), state, use_cache, capture));
    add_layer_losses(static_cast<double>(length) / static_cast<double>(T));
    offset += length;
  }
  return logits.size() == 1 ? logits.front() : torch::cat(logits, 1);
}

torch::Tensor TransformerImpl::run_blocks(const torch::Tensor& tokens, ModelState* state, bool use_cache,
                                          std::map<std::string, torch::Tensor>* capture) {
  auto x = torch::dropout(embed_tokens->forward(tokens.to(device())), spec_.dropout, is_training());
  for (size_t i = 0; i < blocks.size(); ++i) {
    AttentionContext ctx;
    ctx.start_position = state ? state->position : 0;
    ctx.state = state ? &state->layers[i] : nullptr;
    ctx.use_cache = use_cache;
    ctx.segment_length = segment_length_;
    ctx.global_batch = global_batch_;
    const bool recompute = gradient_checkpointing_ && is_training() && torch::GradMode::is_enabled() && !state &&
                           !blocks[i]->has_router_loss() && !plain_blocks_.count(i) &&
                           !capture && x.requires_grad();
    const bool recompute_segment = gradient_checkpointing_ && is_training() && torch::GradMode::is_enabled() &&
                                   state && !blocks[i]->has_router_loss() && !capture;
    if (recompute) {
      auto y = checkpointed(checkpoint_bodies_[i], x);
      // The one-tensor checkpoint cannot carry a gradient to an auxiliary loss: a layer that has one runs
      // without checkpointing (this step again, and from now on).
      if (blocks[i]->attn->auxiliary_loss().defined()) {
        plain_blocks_.insert(i);
        y = blocks[i]->forward(x, ctx, capture);
      }
      x = y;
    } else if (recompute_segment) {
      x = checkpointed_segment(i, x, ctx);
    } else {
      x = blocks[i]->forward(x, ctx, capture);
    }
    if (!recompute_segment) attention_losses_[i] = blocks[i]->attn->auxiliary_loss();
  }
  if (state) state->position += tokens.size(1);
  x = norm->forward(x);
  return lm_head ? lm_head->forward(x) : torch::matmul(x, embed_tokens->weight.t());
}

torch::Tensor TransformerImpl::checkpointed_segment(size_t i, const torch::Tensor& x, AttentionContext& ctx) {
  LayerState& state = *ctx.state;
  SegmentCall call{ctx.start_position, ctx.use_cache, {}};
  std::vector<torch::Tensor> inputs{x};
  for (const auto& [name, tensor] : state) {
    if (!tensor.defined()) continue;
    call.state_names.push_back(name);
    inputs.push_back(tensor);
  }
  std::vector<std::string> output_names;
  auto outputs = checkpointed(segment_bodies_[i], inputs, call, &output_names);
  state.clear();
  attention_losses_[i] = torch::Tensor();
  for (size_t k = 0; k < output_names.size(); ++k) {
    if (output_names[k] == kAttentionLossOutput) attention_losses_[i] = outputs[k + 1];
    else state[output_names[k]] = outputs[k + 1];
  }
  return outputs[0];
}

std::string TransformerImpl::describe_json() const {
  auto count = [](const torch::nn::Module& m) {
    int64_t n = 0;
    for (const auto& p : m.parameters()) n += p.numel();
    return n;
  };
  nlohmann::json layers_json = nlohmann::json::array();
  int64_t attention_total = 0, mlp_total = 0, memory_total = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const auto& b = blocks[i];
    const int64_t a = count(*b->attn), m = b->mlp ? count(*b->mlp) : 0, mem = b->memory ? count(*b->memory) : 0;
    attention_total += a;
    mlp_total += m;
    memory_total += mem;
    const int64_t bank = memory_layout_.bank_of_layer.empty() ? -1 : memory_layout_.bank_of_layer[i];
    layers_json.push_back({{"index", i},
                           {"variant", spec_.layer_variants[i]},
                           {"recurrent", b->attn->is_recurrent()},
                           {"attention_parameters", a},
                           {"mlp_parameters", m},
                           {"memory_bank", bank >= 0 ? nlohmann::json(bank) : nlohmann::json()},
                           {"memory_parameters", mem},
                           {"parameters", count(*b)}});
  }
  for (const auto& bank : banks) memory_total += count(*bank);
  const int64_t total = count(*this);
  nlohmann::json j = {
      {"vocab_size", spec_.vocab_size},
      {"hidden_dim", spec_.hidden_dim},
      {"num_layers", spec_.num_layers},
      {"num_heads", spec_.num_heads},
      {"num_kv_heads", spec_.num_kv_heads},
      {"head_dim", spec_.head_dim},
      {"intermediate_dim", spec_.intermediate_dim},
      {"tie_embeddings", spec_.tie_embeddings},
      {"device", device().str()},
      {"dtype", std::string(c10::toString(spec_.dtype))},
      {"layers", layers_json},
      {"memory_banks", memory_layout_.num_banks},
      {"memory_block_variant", memory_layout_.num_banks > 0
                                   ? nlohmann::json(config_->get_string("memory.memory_block_variant"))
                                   : nlohmann::json()},
      {"parameters",
       {{"total", total},
        {"embedding", embed_tokens->weight.numel()},
        {"attention", attention_total},
        {"mlp", mlp_total},
        {"memory", memory_total},
        {"lm_head", lm_head ? lm_head->weight.numel() : 0}}}};
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);  // names need not be UTF-8
}

}  // namespace memtx
