// Tests of the mla generation cache: prefill + token-by-token decoding (absorbed form over the latent
// cache, or the expanded per-head cache) equals the full forward; what the cache holds per token; bad
// cache use; and a whole model decoding with mla layers equals its full forward.
#include <algorithm>

#include "mla_reference.hpp"

namespace memtx::test::mla {
namespace {

// Runs x through m in pieces of the given lengths with a cache; returns the concatenated outputs.
torch::Tensor decode_in_pieces(AttentionModuleImpl& m, const torch::Tensor& x, const std::vector<int64_t>& lengths,
                               LayerState& state) {
  std::vector<torch::Tensor> pieces;
  int64_t pos = 0;
  for (int64_t len : lengths) {
    AttentionContext ctx;
    ctx.state = &state;
    ctx.use_cache = true;
    ctx.start_position = pos;
    pieces.push_back(m.forward(x.narrow(1, pos, len), ctx));
    pos += len;
  }
  return torch::cat(pieces, 1);
}

TEST(MlaCache, PrefillThenTokenByTokenEqualsFullForward) {
  MlaDims lora;
  lora.q_lora_rank = 12;
  lora.kv_lora_rank = 6;
  lora.nope = 5;
  lora.rope = 6;
  lora.v = 3;
  lora.layout = RopeLayout::Interleaved;
  MlaDims lobo;
  lobo.lobo = true;
  double worst = 0.0;
  for (const auto& dims : {MlaDims{}, lora, lobo}) {
    for (const char* cache : {"latent", "expanded"}) {
      for (bool disable_fused : {false, true}) {
        SCOPED_TRACE(std::string(cache) + (disable_fused ? " explicit" : " fused") + (dims.lobo ? " lobo" : "") +
                     (dims.q_lora_rank ? " q_lora" : ""));
        auto overrides = mla_overrides(dims);
        overrides.push_back(std::string("attention.mla_cache=") + cache);
        overrides.push_back(std::string("attention.disable_flash_attention=") + (disable_fused ? "true" : "false"));
        overrides.push_back("attention.mla_lobo_init=0.3");
        auto m = make_mla(overrides);
        torch::NoGradGuard guard;
        auto x = torch::randn({2, 12, 32});
        AttentionContext full;
        auto y = m->forward(x, full);
        LayerState state;
        auto pieces = decode_in_pieces(*m, x, {5, 1, 1, 1, 3, 1}, state);  // prefill, decode, a chunk, decode
        LayerState one_by_one;
        auto tokens = decode_in_pieces(*m, x, std::vector<int64_t>(12, 1), one_by_one);
        EXPECT_LT(max_abs_diff(pieces, y), 1e-5);
        EXPECT_LT(max_abs_diff(tokens, y), 1e-5);
        worst = std::max({worst, max_abs_diff(pieces, y), max_abs_diff(tokens, y)});
      }
    }
  }
  std::cout << "[mla cache] worst decode vs full forward max abs error: " << worst << "\n";
}

TEST(MlaCache, LatentCacheHoldsOnlyTheNormalisedLatentAndRotaryKey) {
  MlaDims d;
  d.kv_lora_rank = 6;
  d.rope = 4;
  auto m = make_mla(mla_overrides(d));
  torch::NoGradGuard guard;
  auto x = torch::randn({2, 7, 32});
  LayerState state;
  decode_in_pieces(*m, x, {4, 1, 2}, state);
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state.at("c_kv").sizes(), (std::vector<int64_t>{2, 7, 6}));
  EXPECT_EQ(state.at("k_rope").sizes(), (std::vector<int64_t>{2, 7, 4}));
  // The cached values are c_kv after its RMSNorm and k_rope after RoPE at its own position.
  auto p = params_of(*m);
  auto kv_a = ref_linear(p, "kv_a_proj_with_mqa", x.to(torch::kFloat64));
  auto c_kv = ref_rms(kv_a.narrow(-1, 0, 6), p.at("kv_a_layernorm.weight"), 1e-6);
  EXPECT_LT(max_abs_diff(state.at("c_kv"), c_kv), 1e-5);
  for (int64_t t : {0, 3, 6}) {
    auto roped = ref_rotate(kv_a[1][t].narrow(0, 6, 4), t, 1e4, RopeLayout::Half);
    EXPECT_LT(max_abs_diff(state.at("k_rope")[1][t], roped), 1e-5) << "t=" << t;
  }
  // Bytes per token per layer: (kv_lora_rank + rotary dim) float32 values, against H (d_qk + d_v) for the
  // expanded (ordinary multi-head) cache of the same layer.
  const int64_t latent_bytes = (state.at("c_kv").size(2) + state.at("k_rope").size(2)) * 4;
  auto e = make_mla([&] { auto o = mla_overrides(d); o.push_back("attention.mla_cache=expanded"); return o; }());
  LayerState expanded;
  decode_in_pieces(*e, x, {4, 1, 2}, expanded);
  ASSERT_EQ(expanded.size(), 2u);
  const int64_t expanded_bytes = (expanded.at("k").size(1) * expanded.at("k").size(3) +
                                  expanded.at("v").size(1) * expanded.at("v").size(3)) * 4;
  EXPECT_EQ(latent_bytes, (6 + 4) * 4);
  EXPECT_EQ(expanded_bytes, 4 * ((8 + 4) + 8) * 4);
  std::cout << "[mla cache] bytes/token/layer latent " << latent_bytes << " expanded " << expanded_bytes << "\n";
}

TEST(MlaCache, MisusedCacheIsAnError) {
  auto m = make_mla(mla_overrides(MlaDims{}));
  torch::NoGradGuard guard;
  LayerState state;
  decode_in_pieces(*m, torch::randn({2, 4, 32}), {4}, state);
  auto expect_error = [&](const torch::Tensor& x, int64_t start, const std::string& fragment) {
    AttentionContext ctx;
    ctx.state = &state;
    ctx.use_cache = true;
    ctx.start_position = start;
    try {
      m->forward(x, ctx);
      ADD_FAILURE() << "no error for " << fragment;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_error(torch::randn({2, 1, 32}), 7, "holds 4 tokens but the input starts at position 7");
  expect_error(torch::randn({3, 1, 32}), 4, "batch 2, the input has 3");
}

TEST(MlaCache, WholeModelDecodingEqualsFullForward) {
  for (const char* cache : {"latent", "expanded"}) {
    SCOPED_TRACE(cache);
    auto overrides = mla_overrides(MlaDims{});
    overrides.push_back("attention.attention_list=[causal, mla]");
    overrides.push_back("model.num_layers=3");
    overrides.push_back("attention.mla_q_lora_rank=12");
    overrides.push_back(std::string("attention.mla_cache=") + cache);
    Transformer model(tiny_config(overrides), plugin_registry());
    model->eval();
    torch::NoGradGuard guard;
    auto tokens = torch::randint(0, 97, {2, 10}, torch::kLong);
    auto full = model->forward(tokens);
    ModelState state = model->initial_state(2);
    std::vector<torch::Tensor> steps = {model->forward(tokens.narrow(1, 0, 4), &state, true)};
    for (int64_t t = 4; t < 10; ++t) steps.push_back(model->forward(tokens.narrow(1, t, 1), &state, true));
    EXPECT_LT(max_abs_diff(torch::cat(steps, 1), full), 1e-5);
    EXPECT_EQ(state.layers[1].count(std::string(cache) == "latent" ? "c_kv" : "k"), 1u);
  }
}

}  // namespace
}  // namespace memtx::test::mla
