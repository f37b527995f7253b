// Tests of the causal plugin against a sequential reference written here (one query at a time, in double),
// closed forms for RoPE and Flash LoBo, fused vs explicit agreement, causality and the KV cache.
#include <cmath>

#include "memtx/ops.hpp"
#include "test_support.hpp"

namespace memtx::test {
namespace {

using Params = std::map<std::string, torch::Tensor>;

Params causal_params_of(AttentionModuleImpl& m) {
  Params p;
  for (const auto& kv : m.named_parameters()) p[kv.key()] = kv.value().detach().to(torch::kFloat64);
  for (const auto& kv : m.named_buffers()) p[kv.key()] = kv.value().detach().to(torch::kFloat64);
  return p;
}

void copy_parameters(AttentionModuleImpl& from, AttentionModuleImpl& to) {
  torch::NoGradGuard guard;
  auto src = from.named_parameters();
  for (auto& kv : to.named_parameters()) kv.value().copy_(src[kv.key()]);
}

torch::Tensor linear(const Params& p, const std::string& name, const torch::Tensor& x) {
  auto y = torch::matmul(x, p.at(name + ".weight").t());
  if (p.count(name + ".bias")) y = y + p.at(name + ".bias");
  return y;
}

struct RefOptions {
  int64_t heads, kv_heads, dqk, dv;
  bool rope = true;
  RopeLayout layout = RopeLayout::Half;
  int64_t rope_dim = 0;
  double theta = 10000.0;
  bool qk_norm = false, learned_scale = false, lobo = false, concat = true;
  double softcap = 0.0, eps = 1e-6;
  int64_t n_cproj = 1;
};

// Sequential reference: every query position and head computed on its own, in float64.
torch::Tensor reference_attention(const Params& p, const torch::Tensor& x32, const RefOptions& o) {
  auto x = x32.to(torch::kFloat64);
  const int64_t B = x.size(0), T = x.size(1);
  auto q = linear(p, "q_proj", x).view({B, T, o.heads, o.dqk}).transpose(1, 2);
  auto k = linear(p, "k_proj", x).view({B, T, o.kv_heads, o.dqk}).transpose(1, 2);
  auto v = linear(p, "v_proj", x).view({B, T, o.kv_heads, o.dv}).transpose(1, 2);
  if (o.qk_norm) {
    q = q / torch::sqrt(q.pow(2).mean(-1, true) + o.eps) * p.at("q_norm.weight");
    k = k / torch::sqrt(k.pow(2).mean(-1, true) + o.eps) * p.at("k_norm.weight");
  }
  if (o.rope) {
    q = ops::apply_rope(q, 0, o.theta, o.layout, o.rope_dim);
    k = ops::apply_rope(k, 0, o.theta, o.layout, o.rope_dim);
  }
  const double scale = o.learned_scale ? p.at("qk_scale").item<double>() : 1.0 / std::sqrt(double(o.dqk));
  auto out = torch::zeros({B, o.heads, T, o.dv}, x.options());
  const int64_t group = o.heads / o.kv_heads;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < o.heads; ++h)
      for (int64_t i = 0; i < T; ++i) {
        const int64_t g = h / group;
        auto s = torch::mv(k[b][g].narrow(0, 0, i + 1), q[b][h][i]) * scale;  // keys j <= i
        if (o.softcap > 0) s = o.softcap * torch::tanh(s / o.softcap);
        auto e = torch::exp(s);
        double denom = e.sum().item<double>();
        if (o.lobo) {
          auto c = p.at("lobo_log_c");
          denom += std::exp(c.numel() > 1 ? c[h].item<double>() : c.item<double>());
        }
        out[b][h][i] = torch::mv(v[b][g].narrow(0, 0, i + 1).t(), e) / denom;
      }
  torch::Tensor in = o.concat ? out.transpose(1, 2).reshape({B, T, -1}) : out.sum(1);
  auto y = linear(p, "o_proj", in);
  for (int64_t i = 1; i < o.n_cproj; ++i) y = y + linear(p, "o_proj_" + std::to_string(i), in);
  return y;
}

struct Case {
  std::string name;
  std::vector<std::string> overrides;
  RefOptions ref;
};

std::vector<Case> cases() {
  RefOptions base{4, 4, 8, 8};
  std::vector<Case> out;
  out.push_back({"mha", {}, base});
  auto gqa = base;
  gqa.kv_heads = 2;
  out.push_back({"gqa", {"attention.n_kv_group=2"}, gqa});
  auto mqa = base;
  mqa.kv_heads = 1;
  out.push_back({"mqa_interleaved_partial_rope",
                 {"attention.n_kv_group=1", "model.rope_layout=interleaved", "model.rope_dim=4"},
                 [&] { auto r = mqa; r.layout = RopeLayout::Interleaved; r.rope_dim = 4; return r; }()});
  auto norm = gqa;
  norm.qk_norm = true;
  norm.learned_scale = true;
  out.push_back({"qk_norm_scale", {"attention.n_kv_group=2", "attention.use_qk_norm=true", "attention.use_qk_norm_scale=true"}, norm});
  auto cap = base;
  cap.softcap = 0.5;
  out.push_back({"softcap", {"attention.attn_logit_softcapping=0.5"}, cap});
  auto lobo = gqa;
  lobo.lobo = true;
  out.push_back({"lobo", {"attention.n_kv_group=2", "attention.use_flash_lobo=true", "attention.flash_lobo_log_const=0.3"}, lobo});
  out.push_back({"lobo_per_head",
                 {"attention.use_flash_lobo=true", "attention.use_flash_lobo_per_head=true", "attention.flash_lobo_log_const=-0.2"},
                 [&] { auto r = base; r.lobo = true; return r; }()});
  auto dims = base;
  dims.dqk = 6;
  dims.dv = 5;
  dims.n_cproj = 2;
  out.push_back({"decoupled_dims_ncproj", {"attention.n_qk_head_dim=6", "attention.n_v_head_dim=5", "attention.n_cproj=2"}, dims});
  auto sum = base;
  sum.concat = false;
  out.push_back({"sum_heads", {"attention.use_concat_heads=false"}, sum});
  auto norope = base;
  norope.rope = false;
  out.push_back({"no_rope", {"model.use_rope=false"}, norope});
  return out;
}

TEST(CausalAttention, MatchesSequentialReferenceOnEveryPath) {
  for (const auto& c : cases()) {
    for (bool disable_fused : {false, true}) {
      SCOPED_TRACE(c.name + (disable_fused ? " explicit" : " fused"));
      auto overrides = c.overrides;
      overrides.push_back(std::string("attention.disable_flash_attention=") + (disable_fused ? "true" : "false"));
      Config cfg = tiny_config(overrides);
      torch::manual_seed(7);
      auto m = plugin_registry().create("causal", attention_spec(cfg, "causal"));
      m->reset_parameters(0.2);
      torch::NoGradGuard guard;
      if (c.ref.lobo || c.ref.learned_scale) {
        for (auto& kv : m->named_parameters()) {
          if (kv.key() == "lobo_log_c" || kv.key() == "qk_scale") kv.value().add_(torch::randn_like(kv.value()) * 0.1);
        }
      }
      auto x = torch::randn({2, 7, 32});
      AttentionContext ctx;
      auto y = m->forward(x, ctx);
      auto ref = reference_attention(causal_params_of(*m), x, c.ref);
      EXPECT_LT(max_abs_diff(y, ref), 1e-5);
    }
  }
}

TEST(CausalAttention, FusedAndExplicitPathsAgree) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    Config fused_cfg = tiny_config(c.overrides);
    auto explicit_overrides = c.overrides;
    explicit_overrides.push_back("attention.disable_flash_attention=true");
    Config explicit_cfg = tiny_config(explicit_overrides);
    auto fused = plugin_registry().create("causal", attention_spec(fused_cfg, "causal"));
    auto expl = plugin_registry().create("causal", attention_spec(explicit_cfg, "causal"));
    fused->reset_parameters(0.3);
    copy_parameters(*fused, *expl);
    auto x = torch::randn({3, 11, 32});
    AttentionContext a, b;
    EXPECT_LT(max_abs_diff(fused->forward(x, a), expl->forward(x, b)), 1e-5);
  }
}

TEST(CausalAttention, LoboRowZeroAndDiagonal) {
  // One head, one token: o_0 = v_0 e^{s00} / (e^{log c} + e^{s00}), Wo = identity. The published
  // off-by-one makes row 0 all zeros and hides key i from query i.
  Config cfg = tiny_config({"model.hidden_dim=4", "model.num_heads=1", "model.use_rope=false",
                            "attention.use_flash_lobo=true", "attention.flash_lobo_log_const=0.7"});
  auto m = plugin_registry().create("causal", attention_spec(cfg, "causal"));
  torch::NoGradGuard guard;
  auto p = m->named_parameters();
  for (const char* name : {"q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight"}) p[name].copy_(torch::eye(4));
  auto x = torch::tensor({{{1.0f, 2.0f, 0.5f, -1.0f}, {0.3f, -0.2f, 1.0f, 0.0f}}});
  AttentionContext ctx;
  auto y = m->forward(x, ctx);
  const double s00 = x[0][0].dot(x[0][0]).item<double>() / 2.0;  // q.k / sqrt(4)
  const double w = std::exp(s00) / (std::exp(0.7) + std::exp(s00));
  EXPECT_LT(max_abs_diff(y[0][0], x[0][0] * w), 1e-6);
  EXPECT_GT(y[0][0].abs().sum().item<double>(), 0.1);  // row 0 is not zero
  // Diagonal: changing v at position 1 (through x_1) changes the output at position 1.
  auto x2 = x.clone();
  x2[0][1][3] = 5.0f;
  AttentionContext ctx2;
  auto y2 = m->forward(x2, ctx2);
  EXPECT_GT(max_abs_diff(y2[0][1], y[0][1]), 1e-3);
  EXPECT_LT(max_abs_diff(y2[0][0], y[0][0]), 1e-7);
}

TEST(CausalAttention, LoboWithVerySmallConstantIsPlainAttention) {
  Config plain = tiny_config();
  Config lobo = tiny_config({"attention.use_flash_lobo=true", "attention.use_flash_obo_const=true",
                             "attention.flash_lobo_log_const=-60"});
  auto a = plugin_registry().create("causal", attention_spec(plain, "causal"));
  auto b = plugin_registry().create("causal", attention_spec(lobo, "causal"));
  copy_parameters(*a, *b);
  EXPECT_EQ(b->named_parameters().find("lobo_log_c"), nullptr);  // constant: a buffer, not learned
  auto x = torch::randn({2, 6, 32});
  AttentionContext c1, c2;
  EXPECT_LT(max_abs_diff(a->forward(x, c1), b->forward(x, c2)), 1e-6);
}

TEST(CausalAttention, SoftcapBoundsScores) {
  // With a tiny cap every score is within (-c, c): attention is uniform over visible keys to ~c relative.
  Config cfg = tiny_config({"model.hidden_dim=4", "model.num_heads=1", "model.use_rope=false",
                            "attention.attn_logit_softcapping=0.00001"});
  auto m = plugin_registry().create("causal", attention_spec(cfg, "causal"));
  torch::NoGradGuard guard;
  auto p = m->named_parameters();
  for (const char* name : {"q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight"}) p[name].copy_(torch::eye(4) * 10);
  auto x = torch::randn({1, 5, 4});
  AttentionContext ctx;
  auto y = m->forward(x, ctx);
  auto v = x * 10;
  auto expected = torch::cumsum(v, 1) / torch::arange(1, 6).view({1, 5, 1}) * 10;
  EXPECT_LT(max_abs_diff(y, expected), 1e-2);
  // Without the cap the same weights give sharply non-uniform attention.
  Config plain = tiny_config({"model.hidden_dim=4", "model.num_heads=1", "model.use_rope=false"});
  auto m2 = plugin_registry().create("causal", attention_spec(plain, "causal"));
  copy_parameters(*m, *m2);
  AttentionContext ctx2;
  EXPECT_GT(max_abs_diff(m2->forward(x, ctx2), expected), 1.0);
}

TEST(CausalAttention, KvCacheDecodingEqualsFullForward) {
  for (bool disable : {false, true}) {
    Config cfg = tiny_config({"attention.n_kv_group=2", std::string("attention.disable_flash_attention=") + (disable ? "true" : "false")});
    auto m = plugin_registry().create("causal", attention_spec(cfg, "causal"));
    m->reset_parameters(0.3);
    torch::NoGradGuard guard;
    auto x = torch::randn({2, 9, 32});
    AttentionContext full;
    auto y = m->forward(x, full);
    LayerState state;
    std::vector<torch::Tensor> pieces;
    int64_t pos = 0;
    for (int64_t len : {4, 1, 3, 1}) {
      AttentionContext ctx;
      ctx.state = &state;
      ctx.use_cache = true;
      ctx.start_position = pos;
      pieces.push_back(m->forward(x.narrow(1, pos, len), ctx));
      pos += len;
    }
    EXPECT_LT(max_abs_diff(torch::cat(pieces, 1), y), 1e-5);
  }
}

TEST(Rope, ClosedFormHalfAndInterleaved) {
  const double theta = 100.0;
  const int64_t pos = 3;
  auto x = torch::tensor({1.0, 2.0, 3.0, 4.0}, torch::kFloat64).view({1, 1, 1, 4});
  const double a0 = pos * 1.0, a1 = pos * std::pow(theta, -0.5);
  // Half: pairs (0,2) with angle a0 and (1,3) with angle a1.
  auto half = ops::apply_rope(x, pos, theta, RopeLayout::Half).flatten();
  std::vector<double> h = {1 * std::cos(a0) - 3 * std::sin(a0), 2 * std::cos(a1) - 4 * std::sin(a1),
                           3 * std::cos(a0) + 1 * std::sin(a0), 4 * std::cos(a1) + 2 * std::sin(a1)};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(half[i].item<double>(), h[i], 1e-12);
  // Interleaved: pairs (0,1) with angle a0 and (2,3) with angle a1.
  auto inter = ops::apply_rope(x, pos, theta, RopeLayout::Interleaved).flatten();
  std::vector<double> e = {1 * std::cos(a0) - 2 * std::sin(a0), 2 * std::cos(a0) + 1 * std::sin(a0),
                           3 * std::cos(a1) - 4 * std::sin(a1), 4 * std::cos(a1) + 3 * std::sin(a1)};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(inter[i].item<double>(), e[i], 1e-12);
  // Partial: channels beyond rope_dim pass through.
  auto partial = ops::apply_rope(x, pos, theta, RopeLayout::Half, 2).flatten();
  EXPECT_NEAR(partial[2].item<double>(), 3.0, 1e-12);
  EXPECT_NEAR(partial[0].item<double>(), 1 * std::cos(a0) - 2 * std::sin(a0), 1e-12);
}

TEST(Rope, ScoresDependOnlyOnRelativePosition) {
  auto q = torch::randn({1, 1, 1, 8}, torch::kFloat64), k = torch::randn({1, 1, 1, 8}, torch::kFloat64);
  for (auto layout : {RopeLayout::Half, RopeLayout::Interleaved}) {
    auto s1 = (ops::apply_rope(q, 10, 1e4, layout) * ops::apply_rope(k, 4, 1e4, layout)).sum().item<double>();
    auto s2 = (ops::apply_rope(q, 106, 1e4, layout) * ops::apply_rope(k, 100, 1e4, layout)).sum().item<double>();
    EXPECT_NEAR(s1, s2, 1e-9);
  }
}

}  // namespace
}  // namespace memtx::test
