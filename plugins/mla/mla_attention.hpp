// mla/mla_attention.hpp: multi-head latent attention (DeepSeek-V2/V3). H heads; per head a "nope" part of
// d_n channels and a rotary part of d_r channels for queries/keys, and d_v channels for values.
//   Queries:  c_q = RMSNorm(x W_qa) (rank r_q), q = c_q W_qb;  or q = x W_q without query compression.
//             q_h = [q_nope_h (d_n), q_rope_h (d_r)];  q_rope_h <- RoPE(q_rope_h).
//   Latent:   [c_kv (r), k_rope (d_r)] = x W_kva;  c_kv <- RMSNorm(c_kv);  k_rope <- RoPE(k_rope), shared by
//             every head.  [k_nope_h (d_n), v_h (d_v)] = c_kv W_kvb,h.
//   Scores:   s_hij = (q_nope_hi . k_nope_hj + q_rope_hi . k_rope_j) / sqrt(d_n + d_r), keys j <= i;
//             o_hi = softmax_j(s_hij) v_hj;  y = concat_h(o_h) W_o.
//   Sink (use_mla_lobo, as Flash LoBo): o_hi = sum_{j<=i} e^{s_hij} v_hj / (e^{log_c} + sum_{j<=i} e^{s_hij}),
//             one learned log_c per layer: an extra zero-valued key column every query sees.
//   Latent cache (mla_cache: latent): per token only c_kv (after its norm) and the roped k_rope, r + d_r
//             values per layer. Decoding with cached tokens uses the absorbed form, with W_kvb,h split
//             into W_uk,h [d_n, r] (key rows) and W_uv,h [d_v, r] (value rows):
//               q_lat_hi = q_nope_hi W_uk,h, so q_nope_hi . k_nope_hj = q_lat_hi . c_kv_j;
//               o_hi = (sum_j p_hij c_kv_j) W_uv,h^T.
//             mla_cache: expanded stores per-head keys and values instead (H (d_n + d_r + d_v) values per
//             token, as an ordinary multi-head cache; Hugging Face's layout) and decodes with them.
//   RoPE layout: model.rope_layout. DeepSeek-V3's rope_interleave (even channels, then odd, then
//   rotate-half) equals the interleaved rotation up to a channel permutation shared by q and k: same scores.
// Biases (model.attention_bias) as in Hugging Face DeepseekV3Attention: on W_qa, W_kva and W_o only.
#pragma once
#include <memtx/attention.hpp>
#include <memtx/ops.hpp>

namespace memtx::mla {

struct MlaOptions {
  int64_t q_lora_rank = 0;   // 0 = no query compression (q_proj)
  int64_t kv_lora_rank = 0;  // r
  int64_t rope_dim = 0;      // d_r
  int64_t nope_dim = 0;      // d_n
  int64_t v_dim = 0;         // d_v
  bool lobo = false;
  double lobo_init = 0.0;
  bool latent_cache = true;  // false: the expanded (per-head k/v) cache
  bool fused = true;
  static MlaOptions from_spec(const AttentionSpec& spec);
  int64_t qk_head_dim() const { return nope_dim + rope_dim; }
};

class MlaAttentionImpl : public AttentionModuleImpl {
 public:
  explicit MlaAttentionImpl(const AttentionSpec& spec);
  torch::Tensor forward(const torch::Tensor& x, AttentionContext& ctx) override;
  std::vector<std::string> projection_names() const override;
  std::vector<std::string> no_decay_parameters() const override { return {"lobo_log_c"}; }
  const MlaOptions& options() const { return opt_; }

  torch::nn::Linear q_proj{nullptr}, q_a_proj{nullptr}, q_b_proj{nullptr};
  torch::nn::Linear kv_a_proj_with_mqa{nullptr}, kv_b_proj{nullptr}, o_proj{nullptr};
  RMSNorm q_a_layernorm{nullptr}, kv_a_layernorm{nullptr};
  torch::Tensor lobo_log_c;

 private:
  struct Latent {
    torch::Tensor c_kv;    // [B, T, r], normalised
    torch::Tensor k_rope;  // [B, 1, T, d_r], roped
  };
  torch::Tensor queries(const torch::Tensor& x, int64_t start);  // [B, H, T, d_n + d_r], rope part roped
  Latent latent(const torch::Tensor& x, int64_t start);
  // Per-head keys [B, H, T, d_n + d_r] and values [B, H, T, d_v] from the latent.
  std::pair<torch::Tensor, torch::Tensor> expand(const Latent& lat);
  // Softmax attention of q [B,H,Tq,dk] over k [B,H|1,Tk,dk], v [B,H|1,Tk,dv]; query i sits at key
  // position i + Tk - Tq. Scores are scaled by 1/sqrt(d_n + d_r) whatever dk is. The shared softmax core
  // (common/softmax_attention.hpp), one kv head folded into query rows.
  torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);
  torch::Tensor attend_expanded(const torch::Tensor& q, const Latent& lat);
  torch::Tensor attend_absorbed(const torch::Tensor& q, const Latent& lat);
  torch::Tensor forward_latent_cache(const torch::Tensor& q, Latent lat, LayerState& state, int64_t start);
  torch::Tensor forward_expanded_cache(const torch::Tensor& q, const Latent& lat, LayerState& state, int64_t start);
  torch::Tensor output(const torch::Tensor& heads);  // [B, H, T, d_v] -> [B, T, D]

  AttentionSpec spec_;
  MlaOptions opt_;
};
TORCH_MODULE(MlaAttention);

}  // namespace memtx::mla
