// Tests of the co4 plugin: the causal form against a per-prefix token-by-token reference (co4_reference.hpp),
// the published form against the whole-sequence formula, fused vs explicit paths, triadic loops, causality,
// decoding with the cache, and errors for bad input.
#include "co4_reference.hpp"

namespace memtx::test {
namespace {

const std::vector<std::string> kModFns = {"cooperation", "tm1", "tm2", "tm3", "tm4"};

std::shared_ptr<AttentionModuleImpl> make_co4(const std::vector<std::string>& overrides, uint64_t seed = 11) {
  Config cfg = tiny_config(overrides);
  torch::manual_seed(seed);
  auto m = plugin_registry().create("co4", attention_spec(cfg, "co4"));
  m->reset_parameters(0.1);
  return m;
}

torch::Tensor run(AttentionModuleImpl& m, const torch::Tensor& x) {
  AttentionContext ctx;
  return m.forward(x, ctx);
}

// Max abs difference relative to the size of the expected values.
double relative_diff(const torch::Tensor& got, const torch::Tensor& expected) {
  return max_abs_diff(got, expected) / (1.0 + expected.abs().max().item<double>());
}

struct Co4Case {
  std::vector<std::string> overrides;
  co4ref::Options ref;
  double input_scale = 0.5;  // tm4 (2 r^2 c) drives small inputs to 0 within a few passes, large ones to infinity
};

std::vector<Co4Case> cases(bool causal) {
  std::vector<Co4Case> out;
  const std::string causal_key = std::string("attention.co4_causal=") + (causal ? "true" : "false");
  for (const auto& fn : kModFns) {
    for (int64_t passes : {1, 2, 3}) {
      out.push_back({{causal_key, "attention.mod_fn=" + fn, "attention.triadic_loops=" + std::to_string(passes)},
                     {4, passes, fn},
                     fn == "tm4" ? 0.8 : 0.5});
    }
  }
  out.push_back({{causal_key, "model.attention_bias=true", "attention.n_latent=3", "model.num_heads=2",
                  "attention.triadic_loops=2"},
                 {2, 2, "cooperation"},
                 0.5});
  return out;
}

TEST(Co4Attention, CausalFormMatchesPerPrefixReference) {
  for (const auto& c : cases(/*causal=*/true)) {
    SCOPED_TRACE(c.ref.mod_fn + " passes " + std::to_string(c.ref.passes) + " heads " + std::to_string(c.ref.heads));
    auto m = make_co4(c.overrides);
    m->to(torch::kFloat64);
    torch::NoGradGuard guard;
    auto x = torch::randn({2, 6, 32}, torch::kFloat64) * c.input_scale;
    auto y = run(*m, x);
    auto ref = co4ref::causal_reference(co4ref::params_of(*m), x, c.ref);
    EXPECT_LT(relative_diff(y, ref), 1e-10);
    // Positions differ from one another (the prefix means give each position its own latents).
    EXPECT_GT(max_abs_diff(y.select(1, 0), y.select(1, 5)), 1e-6);
  }
}

TEST(Co4Attention, PublishedFormIsTheWholeSequenceFormulaAtEveryPosition) {
  for (const auto& c : cases(/*causal=*/false)) {
    SCOPED_TRACE(c.ref.mod_fn + " passes " + std::to_string(c.ref.passes));
    auto m = make_co4(c.overrides);
    m->to(torch::kFloat64);
    torch::NoGradGuard guard;
    auto x = torch::randn({2, 6, 32}, torch::kFloat64) * c.input_scale;
    auto y = run(*m, x);
    auto expected = co4ref::published_output(co4ref::params_of(*m), x, c.ref);
    for (int64_t t = 0; t < 6; ++t) EXPECT_LT(relative_diff(y.select(1, t), expected), 1e-10) << "position " << t;
  }
}

TEST(Co4Attention, OneTokenGivesTheSameOutputInBothForms) {
  auto causal = make_co4({"attention.triadic_loops=2"});
  auto published = make_co4({"attention.triadic_loops=2", "attention.co4_causal=false"});
  torch::NoGradGuard guard;
  auto x = torch::randn({3, 1, 32});
  EXPECT_LT(max_abs_diff(run(*causal, x), run(*published, x)), 1e-6);
}

TEST(Co4Attention, FusedAndExplicitPathsAgree) {
  for (const char* causal : {"true", "false"}) {
    for (const auto& fn : kModFns) {
      SCOPED_TRACE(fn + " causal " + causal);
      const std::vector<std::string> base = {std::string("attention.co4_causal=") + causal, "attention.mod_fn=" + fn,
                                             "attention.triadic_loops=2"};
      auto explicit_overrides = base;
      explicit_overrides.push_back("attention.disable_flash_attention=true");
      auto fused = make_co4(base), expl = make_co4(explicit_overrides);
      torch::NoGradGuard guard;
      auto x = torch::randn({2, 9, 32});
      EXPECT_LT(relative_diff(run(*fused, x), run(*expl, x)), 1e-5);
    }
  }
}

TEST(Co4Attention, TriadicLoopsChangeTheOutput) {
  torch::NoGradGuard guard;
  auto x = torch::randn({2, 7, 32});
  for (const char* causal : {"true", "false"}) {
    std::vector<torch::Tensor> outputs;
    for (int64_t passes : {1, 2, 3}) {
      auto m = make_co4({std::string("attention.co4_causal=") + causal,
                         "attention.triadic_loops=" + std::to_string(passes)});  // same seed: same weights
      outputs.push_back(run(*m, x));
    }
    EXPECT_GT(max_abs_diff(outputs[0], outputs[1]), 1e-4) << causal;
    EXPECT_GT(max_abs_diff(outputs[1], outputs[2]), 1e-4) << causal;
    EXPECT_GT(max_abs_diff(outputs[0], outputs[2]), 1e-4) << causal;
  }
}

TEST(Co4Attention, ZeroTriadicLoopsIsRejectedByTheConfiguration) {
  try {
    tiny_config({"attention.triadic_loops=0"});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Config);
    EXPECT_NE(std::string(e.what()).find("triadic_loops"), std::string::npos) << e.what();
  }
}

TEST(Co4Attention, LaterTokensNeverChangeEarlierOutputs) {
  for (const auto& fn : kModFns) {
    auto m = make_co4({"attention.mod_fn=" + fn, "attention.triadic_loops=2"});
    torch::NoGradGuard guard;
    auto x = torch::randn({2, 10, 32});
    auto y = run(*m, x);
    for (int64_t t : {0, 4, 8}) {
      auto changed = x.clone();
      changed.narrow(1, t + 1, 10 - t - 1).normal_();
      auto y2 = run(*m, changed);
      EXPECT_LT(max_abs_diff(y.narrow(1, 0, t + 1), y2.narrow(1, 0, t + 1)), 1e-6) << fn << " position " << t;
      EXPECT_GT(max_abs_diff(y.narrow(1, t + 1, 10 - t - 1), y2.narrow(1, t + 1, 10 - t - 1)), 1e-5);
    }
  }
  // The published form sees the future: the same perturbation moves position 0.
  auto published = make_co4({"attention.co4_causal=false"});
  torch::NoGradGuard guard;
  auto x = torch::randn({2, 10, 32});
  auto changed = x.clone();
  changed.narrow(1, 5, 5).normal_();
  EXPECT_GT(max_abs_diff(run(*published, x).select(1, 0), run(*published, changed).select(1, 0)), 1e-5);
}

TEST(Co4Attention, CachedDecodingEqualsFullForward) {
  for (const char* fused : {"false", "true"}) {
    auto m = make_co4({"attention.triadic_loops=2", "attention.mod_fn=tm3",
                       std::string("attention.disable_flash_attention=") + fused});
    torch::NoGradGuard guard;
    auto x = torch::randn({2, 9, 32});
    auto full = run(*m, x);
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
    EXPECT_LT(max_abs_diff(torch::cat(pieces, 1), full), 1e-5);
    ASSERT_TRUE(state.count("token_sum_k.1"));
    EXPECT_EQ(state.at("k").size(2), 9);
    // The carried sums are the token sums of the keys/values entering each pass; for pass 0 that is x Wk.
    auto k_proj = m->named_parameters()["k_proj.weight"];
    EXPECT_LT(max_abs_diff(state.at("token_sum_k.0"), torch::matmul(x, k_proj.t()).sum(1)), 1e-4);
  }
}

TEST(Co4Attention, PublishedFormRefusesTheDecodingCache) {
  auto m = make_co4({"attention.co4_causal=false"});
  LayerState state;
  AttentionContext ctx;
  ctx.state = &state;
  ctx.use_cache = true;
  try {
    m->forward(torch::randn({1, 3, 32}), ctx);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("co4_causal"), std::string::npos) << e.what();
  }
}

TEST(Co4Attention, BadInputIsNamed) {
  auto m = make_co4({});
  try {
    run(*m, torch::randn({2, 5, 31}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("[2, 5, 31]"), std::string::npos) << e.what();
  }
  Config odd = tiny_config({"model.hidden_dim=30", "model.head_dim=8"});
  try {
    plugin_registry().create("co4", attention_spec(odd, "co4"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Config);
    EXPECT_NE(std::string(e.what()).find("model.num_heads"), std::string::npos) << e.what();
  }
}

TEST(Co4Attention, ParametersAndProjectionNames) {
  auto m = make_co4({"attention.n_latent=5"});
  auto params = m->named_parameters();
  ASSERT_NE(params.find("latent_queries"), nullptr);
  EXPECT_EQ(params["latent_queries"].sizes(), (std::vector<int64_t>{5, 32}));
  for (const auto& name : m->projection_names()) EXPECT_NE(params.find(name + ".weight"), nullptr) << name;
  EXPECT_EQ(m->projection_names().size(), 4u);
  EXPECT_FALSE(m->is_recurrent());
}

}  // namespace
}  // namespace memtx::test
