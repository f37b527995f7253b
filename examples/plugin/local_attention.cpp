// examples/plugin/local_attention.cpp: a complete third-party variant, "local": causal softmax attention
// restricted to the last `attention.local_window` keys (query i sees keys max(0, i-w+1) .. i), no RoPE.
//   s_ij = q_i . k_j / sqrt(d) for i-w < j <= i, -inf otherwise; o = softmax(s) v; y = Wo concat(o).
// It declares its own option key and a rule over it, which memtx adds to the config schema when the plugin
// loads (validate() runs the rule; docs and `memtx-cli plugins` list both).
#include <memtx/option.hpp>
#include <memtx/plugin.h>

#include <cmath>
#include <limits>

namespace {

class LocalAttentionImpl : public memtx::AttentionModuleImpl {
 public:
  explicit LocalAttentionImpl(const memtx::AttentionSpec& spec)
      : heads_(spec.num_heads), head_dim_(spec.hidden_dim / spec.num_heads),
        window_(spec.config->get_int("attention.local_window")) {
    qkv_proj = register_module("qkv_proj", torch::nn::Linear(spec.hidden_dim, 3 * spec.hidden_dim));
    o_proj = register_module("o_proj", torch::nn::Linear(spec.hidden_dim, spec.hidden_dim));
  }

  torch::Tensor forward(const torch::Tensor& x, memtx::AttentionContext&) override {
    const int64_t B = x.size(0), T = x.size(1);
    auto qkv = qkv_proj->forward(x).view({B, T, 3, heads_, head_dim_}).permute({2, 0, 3, 1, 4});
    auto scores = torch::matmul(qkv[0], qkv[1].transpose(-2, -1)) / std::sqrt(double(head_dim_));
    auto idx = torch::arange(T, x.options().dtype(torch::kLong));
    auto distance = idx.view({T, 1}) - idx.view({1, T});  // i - j
    auto hidden = (distance < 0).logical_or(distance >= window_);
    scores = scores.masked_fill(hidden, -std::numeric_limits<float>::infinity());
    auto out = torch::matmul(torch::softmax(scores, -1), qkv[2]);
    return o_proj->forward(out.transpose(1, 2).reshape({B, T, -1}));
  }

  std::vector<std::string> projection_names() const override { return {"qkv_proj", "o_proj"}; }

  torch::nn::Linear qkv_proj{nullptr}, o_proj{nullptr};

 private:
  int64_t heads_, head_dim_, window_;
};

}  // namespace

MEMTX_DEFINE_PLUGIN("local", "0.1.0")

MEMTX_PLUGIN_REGISTER {
  memtx::VariantKeys keys;
  keys.options.push_back(memtx::Option("attention.local_window", memtx::ValueType::Int, int64_t{64})
                             .min(1)
                             .by("local (example plugin)")
                             .doc("Keys visible to each query in the 'local' variant (sliding window)."));
  keys.rules.push_back({"`attention.local_window` is at most `model.max_seq_len`.",
                        {"attention.local_window", "model.max_seq_len"},
                        [](const memtx::Config& c, std::vector<std::string>& errors) {
                          if (c.get_int("attention.local_window") > c.get_int("model.max_seq_len"))
                            errors.push_back("attention.local_window (" + c.get("attention.local_window").to_string() +
                                             ") must be <= model.max_seq_len (" +
                                             c.get("model.max_seq_len").to_string() + ")");
                        }});
  host->add_variant(memtx::make_variant<LocalAttentionImpl>(
      "local", "sliding-window causal attention (example out-of-tree plugin)", std::move(keys)));
}
