// infini/infini_attention.hpp: Infini-attention (Munkhdalai, Faruqui, Gopal 2024, arXiv 2404.07143).
// The input is processed in segments of L = infini_attention.segment_length tokens. Per segment:
//   q = x Wq (H heads), k = x Wk, v = x Wv (G kv heads, d_k = d_v = head_dim), optional per-head RMS
//   QK-norm; RoPE (positions counted from the start of the segment: the local part only sees its own
//   segment, and relative positions are what RoPE encodes, so this equals absolute positions exactly and
//   stays precise on million-token streams).
//   A_dot = causal softmax attention within the segment (scale 1/sqrt(d_k) or a learned qk_scale); with
//   local_segments S > 1 over the last (S - 1) * L tokens of completed segments too (RoPE positions counted from
//   the first of them), a sliding local window of (S - 1) L + 1 to S L keys.
//   A_mem = sigma(q) M / (sigma(q) z + eps) on the *pre-RoPE* q; then M, z updated with the pre-RoPE k of
//   the whole segment (linear or linear + delta rule, infini_memory.hpp) once the segment is complete.
//   A = g(beta_h) A_mem + (1 - g(beta_h)) A_dot per query head; concat heads, Wo.
//   turn_on_memory: false gives A = A_dot and never touches M, z (causal attention within each segment).
//   write_gate: true adds w = hard_sigmoid(x W_w + b_w) [B, G, T] ("write_gate", a Linear hidden -> G with
//   bias), scaling each token's write (infini_memory.hpp); its weights of the unfinished segment's tokens are
//   state "w" [B, G, n] beside "k" and "v". write_sparsity lambda > 0 (training only): auxiliary_loss() =
//   lambda * mean(relu(u / 6 + 1/2)), u = x W_w + b_w, over the call's tokens and kv heads: an L1 penalty on w
//   without its upper clamp (so tokens saturated at w = 1 feel it too) that drives skippable tokens to w = 0.
// State (ctx.state, per sequence of the batch): "M" [B, G, d_k, d_v] and "z" [B, G, d_k] (float32, or
// float64 for a float64 model) and "k" [B, G, n, d_k], "v" [B, G, n, d_v]: the pre-RoPE keys and the
// values of the n < L tokens of the unfinished current segment (model dtype). A call continues the
// sequence the state holds whatever its length and whatever ctx.use_cache says: a segment is completed
// by one call or by several (token-by-token decoding), its keys leave the cache and enter M, z, and
// the outputs are the same. Without a state a call is a whole sequence starting at a segment boundary.
// ctx.start_position is not needed (the cache length gives the offset within the segment). With local_segments
// S > 1 also "pk", "pv" [B, G, p, d]: the pre-RoPE keys and values of the last p <= (S - 1) L tokens of completed
// segments (p < (S - 1) L only while fewer have gone by).
// Memory per layer: G * d_k * (d_v + 1) values per sequence, plus at most S L - 1 cached tokens.
// The gate parameter is "balance" [H] (layers.<i>.attn.balance): the layer asks for it to be its own optimizer
// group "infini_gates" at infini_attention.balance_factor_lr, without weight decay (parameter_groups()).
#pragma once
#include <memtx/attention.hpp>
#include <memtx/ops.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "infini_memory.hpp"

namespace memtx::infini {

struct InfiniOptions {
  int64_t segment_length = 64;
  int64_t local_segments = 1;         // infini_attention.local_segments: segments the local attention spans
  bool memory_on = true;
  bool write_gate = false;            // infini_attention.write_gate
  bool delta = false;                 // infini_attention.memory_update: linear | delta
  std::string init_type = "zeros";    // balance_init_type: zeros | ones | normal
  GateKind gate = GateKind::Sigmoid;  // balance_act_type
  bool qk_norm = false, qk_norm_scale = false;
  bool fused = true;
  bool logging = false, log_grad = false, log_segment_acts = false;
  int64_t logging_interval = 1;       // infini_attention.logging_interval: steps between metric reads
  int64_t detach_every = 0;           // infini_attention.detach_every: segments between gradient cuts
  double balance_lr = 1e-3;           // infini_attention.balance_factor_lr
  double write_sparsity = 0.0;        // infini_attention.write_sparsity: L1 weight on the write weights
  static InfiniOptions from_spec(const AttentionSpec& spec);
};

class InfiniAttentionImpl : public AttentionModuleImpl {
 public:
  explicit InfiniAttentionImpl(const AttentionSpec& spec);
  torch::Tensor forward(const torch::Tensor& x, AttentionContext& ctx) override;
  bool is_recurrent() const override { return true; }
  // The model runs inputs segment by segment at this length (its segment engine); the layer itself also
  // splits a longer x, so both give the same result.
  int64_t segment_length() const override { return opt_.segment_length; }
  LayerState initial_state(int64_t batch, const torch::TensorOptions& options) override;
  void reset_parameters(double init_std) override;
  std::vector<std::string> projection_names() const override { return {"q_proj", "k_proj", "v_proj", "o_proj"}; }
  // With infini_attention.logging: "gate.head<h>" = g(beta_h); "memory_norm.kv<g>" and "z_norm.kv<g>" =
  // Frobenius norms of M and z after the last forward (mean over the batch); with log_segment_acts
  // "segment<j>.mem_rms", ".local_rms", ".out_rms" for every segment j of the last sequence; with log_grad
  // "grad_norm.balance", "grad_norm.q_proj", "grad_norm.k_proj", "grad_norm.v_proj"; with write_gate
  // "write.mean.kv<g>" (mean w over the last sequence's tokens) and "write.open.kv<g>" (the share of them with
  // w > 0).
  std::map<std::string, double> metrics() override;
  // The write penalty of the last forward in training mode (see above); undefined otherwise.
  torch::Tensor auxiliary_loss() override { return write_penalty_; }
  int64_t metrics_interval() const override { return opt_.logging ? opt_.logging_interval : 0; }
  int64_t detach_every() const override { return opt_.detach_every; }
  std::vector<ParameterGroupRequest> parameter_groups() const override {
    return {{"infini_gates", {"balance"}, opt_.balance_lr}};
  }
  std::vector<std::string> no_decay_parameters() const override { return {"qk_scale"}; }

  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  torch::nn::Linear write_gate{nullptr};  // with infini_attention.write_gate
  RMSNorm q_norm{nullptr}, k_norm{nullptr};
  torch::Tensor qk_scale, balance;

 private:
  // Softmax attention of the piece's queries (at `offset` in the local window) over the window's keys so far
  // (completed segments' tokens kept for local_segments > 1, then the segment's): RoPE, then the shared softmax
  // core (common/softmax_attention.hpp).
  torch::Tensor local_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, int64_t offset);
  // The stored tensor checked against `shape` (-1: any size, for the cache length), or null when absent.
  torch::Tensor stored(const LayerState* state, const std::string& key, const std::vector<int64_t>& shape) const;
  // The token pair state[keys], state[values] [B, G, n, d] (bgd = {B, G, d}) in `options`, or two nulls when
  // absent: both present or both absent, one length n <= max_tokens, else an error naming the keys and the bound.
  std::pair<torch::Tensor, torch::Tensor> stored_tokens(const LayerState* state, const std::string& keys,
                                                        const std::string& values, const std::vector<int64_t>& bgd,
                                                        int64_t max_tokens, const std::string& bound,
                                                        const std::string& what,
                                                        const torch::TensorOptions& options) const;
  void init_balance();

  AttentionSpec spec_;
  InfiniOptions opt_;
  // Logging of the last forward (detached; converted to numbers only in metrics()).
  Memory last_memory_;
  struct WriteStats {
    torch::Tensor sum, open;  // [G]: sum of w and count of w > 0 over the sequence's tokens so far
    double tokens = 0;        // batch rows times tokens
  } write_stats_;
  torch::Tensor write_penalty_;
  std::vector<std::map<std::string, torch::Tensor>> segment_acts_;
};
TORCH_MODULE(InfiniAttention);

}  // namespace memtx::infini
