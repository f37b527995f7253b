// Every mla option changes what it claims (parameter shapes, cache sizes, outputs), the attention sink's
// row 0 and diagonal in closed form, defaults, and option errors.
#include "mla_reference.hpp"

namespace memtx::test::mla {
namespace {

std::map<std::string, std::vector<int64_t>> shapes(AttentionModuleImpl& m) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& kv : m.named_parameters()) out[kv.key()] = kv.value().sizes().vec();
  return out;
}

using Shape = std::vector<int64_t>;

TEST(MlaOptions, EveryDimensionOptionShapesTheParameters) {
  // hidden 32, H 4; latent r, rotary d_r, query rank r_q, nope d_n, value d_v.
  auto s = shapes(*make_mla({"attention.attention_variant=mla", "attention.mla_latent_dim=6", "attention.mla_rotary_dim=10",
                             "attention.mla_q_lora_rank=12", "attention.mla_nope_head_dim=5", "attention.mla_v_head_dim=3"}));
  EXPECT_EQ(s.at("q_a_proj.weight"), (Shape{12, 32}));
  EXPECT_EQ(s.at("q_a_layernorm.weight"), (Shape{12}));
  EXPECT_EQ(s.at("q_b_proj.weight"), (Shape{4 * (5 + 10), 12}));
  EXPECT_EQ(s.at("kv_a_proj_with_mqa.weight"), (Shape{6 + 10, 32}));
  EXPECT_EQ(s.at("kv_a_layernorm.weight"), (Shape{6}));
  EXPECT_EQ(s.at("kv_b_proj.weight"), (Shape{4 * (5 + 3), 6}));
  EXPECT_EQ(s.at("o_proj.weight"), (Shape{32, 4 * 3}));
  EXPECT_EQ(s.count("q_proj.weight"), 0u);
  EXPECT_EQ(s.count("lobo_log_c"), 0u);
  // Changing each option alone changes exactly the shapes it claims to.
  auto t = shapes(*make_mla({"attention.attention_variant=mla", "attention.mla_latent_dim=7", "attention.mla_rotary_dim=10",
                             "attention.mla_q_lora_rank=12", "attention.mla_nope_head_dim=5", "attention.mla_v_head_dim=3"}));
  EXPECT_EQ(t.at("kv_a_proj_with_mqa.weight"), (Shape{7 + 10, 32}));
  EXPECT_EQ(t.at("kv_b_proj.weight"), (Shape{4 * 8, 7}));
  EXPECT_EQ(t.at("q_b_proj.weight"), s.at("q_b_proj.weight"));
  auto u = shapes(*make_mla({"attention.attention_variant=mla", "attention.mla_latent_dim=6", "attention.mla_rotary_dim=2",
                             "attention.mla_q_lora_rank=12", "attention.mla_nope_head_dim=5", "attention.mla_v_head_dim=3"}));
  EXPECT_EQ(u.at("kv_a_proj_with_mqa.weight"), (Shape{6 + 2, 32}));
  EXPECT_EQ(u.at("q_b_proj.weight"), (Shape{4 * (5 + 2), 12}));
  EXPECT_EQ(u.at("kv_b_proj.weight"), s.at("kv_b_proj.weight"));
  auto v = shapes(*make_mla({"attention.attention_variant=mla", "attention.mla_latent_dim=6", "attention.mla_rotary_dim=10",
                             "attention.mla_nope_head_dim=5", "attention.mla_v_head_dim=3"}));
  EXPECT_EQ(v.at("q_proj.weight"), (Shape{4 * 15, 32}));
  EXPECT_EQ(v.count("q_a_proj.weight") + v.count("q_b_proj.weight") + v.count("q_a_layernorm.weight"), 0u);
  auto w = shapes(*make_mla({"attention.attention_variant=mla", "attention.mla_latent_dim=6", "attention.mla_rotary_dim=10",
                             "attention.mla_q_lora_rank=12", "attention.mla_nope_head_dim=9", "attention.mla_v_head_dim=3"}));
  EXPECT_EQ(w.at("q_b_proj.weight"), (Shape{4 * (9 + 10), 12}));
  EXPECT_EQ(w.at("kv_b_proj.weight"), (Shape{4 * (9 + 3), 6}));
  EXPECT_EQ(w.at("o_proj.weight"), s.at("o_proj.weight"));
  auto z = shapes(*make_mla({"attention.attention_variant=mla", "attention.mla_latent_dim=6", "attention.mla_rotary_dim=10",
                             "attention.mla_q_lora_rank=12", "attention.mla_nope_head_dim=5", "attention.mla_v_head_dim=7"}));
  EXPECT_EQ(z.at("kv_b_proj.weight"), (Shape{4 * (5 + 7), 6}));
  EXPECT_EQ(z.at("o_proj.weight"), (Shape{32, 4 * 7}));
  EXPECT_EQ(z.at("q_b_proj.weight"), s.at("q_b_proj.weight"));
}

TEST(MlaOptions, DefaultsFollowTheDocumentation) {
  // mla_latent_dim null = hidden_dim / 4; mla_rotary_dim 32; nope and value head dims = model head_dim.
  auto s = shapes(*make_mla({"attention.attention_variant=mla", "model.hidden_dim=64", "model.num_heads=4"}));
  EXPECT_EQ(s.at("kv_a_proj_with_mqa.weight"), (Shape{64 / 4 + 32, 64}));
  EXPECT_EQ(s.at("kv_b_proj.weight"), (Shape{4 * (16 + 16), 16}));
  EXPECT_EQ(s.at("q_proj.weight"), (Shape{4 * (16 + 32), 64}));
  auto h = shapes(*make_mla({"attention.attention_variant=mla", "model.hidden_dim=64", "model.num_heads=4", "model.head_dim=6"}));
  EXPECT_EQ(h.at("kv_b_proj.weight"), (Shape{4 * (6 + 6), 16}));
}

TEST(MlaOptions, RopeLayoutAndUseRopeChangeTheOutput) {
  MlaDims d;
  auto half = make_mla(mla_overrides(d));
  d.layout = RopeLayout::Interleaved;
  auto inter = make_mla(mla_overrides(d));
  d.use_rope = false;
  auto none = make_mla(mla_overrides(d));
  copy_parameters(*half, *inter);
  copy_parameters(*half, *none);
  torch::NoGradGuard guard;
  auto x = torch::randn({1, 8, 32});
  AttentionContext a, b, c;
  auto yh = half->forward(x, a), yi = inter->forward(x, b), yn = none->forward(x, c);
  EXPECT_GT(max_abs_diff(yh, yi), 1e-4);
  EXPECT_GT(max_abs_diff(yh, yn), 1e-4);
  // Position 0 has angle 0: every layout gives the same first row.
  EXPECT_LT(max_abs_diff(yh[0][0], yn[0][0]), 1e-6);
}

TEST(MlaOptions, SinkRowZeroAndDiagonalInClosedForm) {
  // Zero query weights make every score 0, so plain attention averages v_0..v_i while the sink adds
  // e^{log_c} to the denominator: y_sink[i] = y_plain[i] (i + 1) / (i + 1 + e^{log_c}). Row 0 is not zero
  // and key i is visible to query i (the published off-by-one fails both).
  const double log_c = 0.7;
  MlaDims d;
  auto plain = make_mla(mla_overrides(d));
  d.lobo = true;
  auto overrides = mla_overrides(d);
  overrides.push_back("attention.mla_lobo_init=0.7");
  auto sink = make_mla(overrides);
  copy_parameters(*plain, *sink);
  torch::NoGradGuard guard;
  EXPECT_NEAR(sink->named_parameters()["lobo_log_c"].item<double>(), log_c, 1e-7);
  EXPECT_TRUE(sink->named_parameters()["lobo_log_c"].requires_grad());
  for (auto* m : {plain.get(), sink.get()}) m->named_parameters()["q_proj.weight"].zero_();
  auto x = torch::randn({2, 6, 32});
  AttentionContext a, b;
  auto yp = plain->forward(x, a), ys = sink->forward(x, b);
  for (int64_t i = 0; i < 6; ++i) {
    const double factor = (i + 1.0) / (i + 1.0 + std::exp(log_c));
    EXPECT_LT(max_abs_diff(ys.select(1, i), yp.select(1, i) * factor), 1e-6) << "row " << i;
  }
  EXPECT_GT(ys.select(1, 0).abs().max().item<double>(), 1e-2);
  // Diagonal: changing only token 3 changes output 3 and nothing before it.
  auto x2 = x.clone();
  x2.select(1, 3).add_(1.0);
  AttentionContext c;
  auto ys2 = sink->forward(x2, c);
  EXPECT_GT(max_abs_diff(ys2.select(1, 3), ys.select(1, 3)), 1e-4);
  EXPECT_LT(max_abs_diff(ys2.narrow(1, 0, 3), ys.narrow(1, 0, 3)), 1e-7);
}

TEST(MlaOptions, SinkInitIsUsedAndAVerySmallSinkIsPlainAttention) {
  MlaDims d;
  auto plain = make_mla(mla_overrides(d));
  d.lobo = true;
  auto with = [&](const char* init) {
    auto o = mla_overrides(d);
    o.push_back(std::string("attention.mla_lobo_init=") + init);
    auto m = make_mla(o);
    copy_parameters(*plain, *m);
    return m;
  };
  auto tiny = with("-60"), a = with("0.0"), b = with("1.5");
  torch::NoGradGuard guard;
  auto x = torch::randn({2, 5, 32});
  AttentionContext c0, c1, c2, c3;
  auto yp = plain->forward(x, c0);
  EXPECT_LT(max_abs_diff(tiny->forward(x, c1), yp), 1e-6);
  auto ya = a->forward(x, c2), yb = b->forward(x, c3);
  EXPECT_GT(max_abs_diff(ya, yp), 1e-4);
  EXPECT_GT(max_abs_diff(ya, yb), 1e-4);
  // A larger sink logit takes more weight from the real keys: smaller outputs.
  EXPECT_LT(yb.norm().item<double>(), ya.norm().item<double>());
}

TEST(MlaOptions, SinkLogitIsLearned) {
  MlaDims d;
  d.lobo = true;
  auto m = make_mla(mla_overrides(d));
  AttentionContext ctx;
  m->forward(torch::randn({2, 5, 32}), ctx).pow(2).sum().backward();
  auto grad = m->named_parameters()["lobo_log_c"].grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_GT(grad.abs().item<double>(), 0.0);
}

TEST(MlaOptions, ProjectionNamesFollowQueryCompression) {
  auto plain = make_mla({"attention.attention_variant=mla"});
  auto lora = make_mla({"attention.attention_variant=mla", "attention.mla_q_lora_rank=8"});
  EXPECT_EQ(plain->projection_names(), (std::vector<std::string>{"q_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj"}));
  EXPECT_EQ(lora->projection_names(),
            (std::vector<std::string>{"q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj"}));
  for (const auto& name : lora->projection_names()) EXPECT_NE(lora->named_modules().find(name), nullptr) << name;
}

TEST(MlaOptions, BadOptionsAreConfigErrorsNamingTheKey) {
  auto expect_error = [](const std::vector<std::string>& overrides, const std::string& fragment) {
    try {
      make_mla(overrides);
      ADD_FAILURE() << "no error for " << fragment;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::Config);
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_error({"attention.attention_variant=mla", "attention.mla_rotary_dim=5"}, "attention.mla_rotary_dim");
  expect_error({"attention.attention_variant=mla", "model.hidden_dim=2", "model.num_heads=1"}, "attention.mla_latent_dim");
  expect_error({"attention.attention_variant=mla", "attention.mla_cache=compressed"}, "attention.mla_cache");
  expect_error({"attention.attention_variant=mla", "attention.mla_q_lora_rank=0"}, "attention.mla_q_lora_rank");
}

}  // namespace
}  // namespace memtx::test::mla
