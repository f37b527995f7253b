// memory/memory_attention.hpp: memory-token cross-attention, the "memory" variant (memtx/memory.hpp).
//   x [B, T, D] (the block's normalised hidden state), bank M [N_m, W] (memory_bank.hpp).
//   q = x Wq (H heads of d = head_dim), K = M Wk, V = M Wv (G = n_kv_group heads; query head h reads kv head
//   h / (H/G)); o_h = softmax(q_h K^T / sqrt(d)) V over the memory vectors (no mask, no RoPE: the memory has
//   no positions, and position t reads only x_t, so the layer is causal); out = concat_h(o_h) Wo.
//   use_low_rank_projections: each W = U V with V [rank, in], U [out, rank] (rank = projection_rank).
//   wo_init_zero: Wo = 0 (for a factorised Wo its U = 0), so the sublayer starts at exactly 0 and the block
//   as it was without it.
//   Chapters (memory_router.hpp): the router picks top_k chapters per sequence or per token and the output
//   mixes the chapters' attentions, o_h = sum_{c in S} g_c softmax(q_h K_c^T / sqrt(d)) V_c. Sequence
//   routing gathers only the chosen chapters of each sequence; token and rolling routing score every
//   chapter and weight the unchosen ones by 0 (the memory cost of attention over the whole bank).
//   Training uses memory.routing_strategy_train, eval mode memory.routing_strategy_inference.
//   auxiliary_loss() = sum of coefficient * loss over the enabled router losses of the last forward.
#pragma once
#include <memtx/memory.hpp>

#include <map>
#include <string>

#include "memory_bank.hpp"

namespace memtx::memory {

struct MemoryOptions {
  BankShape bank;
  int64_t projection_rank = 0;  // 0: full projections
  bool wo_init_zero = true;
  bool chapters = false;
  int64_t num_chapters = 1, tokens_per_chapter = 0, top_k = 1, routing_window = 128;
  std::string routing_train = "sequence", routing_inference = "sequence";
  bool use_load_balance = false, use_auxiliary = false, use_z = false;
  double load_balance_coefficient = 0, auxiliary_coefficient = 0, z_coefficient = 0;
  static MemoryOptions from_spec(const AttentionSpec& spec);
};

// A projection in -> out: x W^T with W [out, in] ("weight"), or x V^T U^T ("down" V [rank, in], "up" U [out, rank]).
class ProjectionImpl : public torch::nn::Module {
 public:
  ProjectionImpl(int64_t in, int64_t out, int64_t rank);
  torch::Tensor forward(const torch::Tensor& x);
  // Entries of W (or of U V) ~ N(0, std) in distribution: V ~ N(0, rank^(-1/2)), U ~ N(0, std); zero: W = 0 (U = 0).
  void reset(double std, bool zero);
  torch::Tensor weight, down, up;
};
TORCH_MODULE(Projection);

class MemoryAttentionImpl : public MemoryLayerImpl {
 public:
  explicit MemoryAttentionImpl(const AttentionSpec& spec);
  torch::Tensor forward(const torch::Tensor& x, AttentionContext& ctx) override;
  void reset_parameters(double init_std) override;
  torch::Tensor auxiliary_loss() override { return aux_loss_; }

  std::shared_ptr<MemoryBankImpl> make_bank() const override;
  void bind_bank(std::shared_ptr<MemoryBankImpl> bank) override;
  std::shared_ptr<MemoryBankImpl> bank() const override { return bank_; }
  bool has_router_loss() const override;
  std::map<std::string, torch::Tensor> router_losses() const override { return losses_; }

  const MemoryOptions& options() const { return opt_; }

  Projection q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  torch::nn::Linear router{nullptr};  // D -> C, with chapters only

 private:
  // q [B, T, G, r, d], K and V [G, n, d] -> heads [B, T, G, r, d].
  torch::Tensor attend_all(const torch::Tensor& q, const torch::Tensor& K, const torch::Tensor& V);
  torch::Tensor attend_chapters(const torch::Tensor& x, const torch::Tensor& q, const torch::Tensor& K,
                                const torch::Tensor& V, AttentionContext& ctx);
  torch::Tensor probabilities(const torch::Tensor& scores);  // softmax over the last dim, attention dropout
  AttentionSpec spec_;
  MemoryOptions opt_;
  std::shared_ptr<MemoryBankImpl> bank_;
  torch::Tensor aux_loss_;
  std::map<std::string, torch::Tensor> losses_;
};

}  // namespace memtx::memory
