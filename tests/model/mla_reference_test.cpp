// Tests of the mla plugin against the sequential float64 reference (mla_reference.hpp) for every option
// combination, fused vs explicit agreement, causality, and the DeepSeek-V3 rope_interleave equivalence.
#include <algorithm>

#include "mla_reference.hpp"

#include "memtx/ops.hpp"

namespace memtx::test::mla {
namespace {

struct Case {
  std::string name;
  MlaDims dims;
  std::vector<std::string> extra;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  MlaDims base;
  out.push_back({"plain_q_proj", base, {}});
  auto lora = base;
  lora.q_lora_rank = 12;
  out.push_back({"q_lora", lora, {}});
  auto dims = lora;
  dims.kv_lora_rank = 6;
  dims.nope = 5;
  dims.rope = 6;
  dims.v = 3;
  out.push_back({"decoupled_dims", dims, {}});
  auto inter = lora;
  inter.layout = RopeLayout::Interleaved;
  out.push_back({"interleaved", inter, {}});
  auto lobo = inter;
  lobo.lobo = true;
  out.push_back({"lobo", lobo, {"attention.mla_lobo_init=0.4"}});
  auto norope = base;
  norope.use_rope = false;
  out.push_back({"no_rope", norope, {}});
  auto heads = dims;
  heads.heads = 2;
  out.push_back({"two_heads_bias", heads, {"model.attention_bias=true"}});
  return out;
}

// Moves every parameter away from its initial value (norm gains start at 1, biases at 0) so a reference
// that skipped one would disagree.
void randomize(AttentionModuleImpl& m) {
  torch::NoGradGuard guard;
  for (auto& kv : m.named_parameters()) kv.value().add_(torch::randn_like(kv.value()) * 0.1);
}

TEST(MlaAttention, MatchesSequentialReferenceOnBothPaths) {
  double worst = 0.0;
  for (const auto& c : cases()) {
    for (bool disable_fused : {false, true}) {
      SCOPED_TRACE(c.name + (disable_fused ? " explicit" : " fused"));
      auto overrides = mla_overrides(c.dims);
      overrides.insert(overrides.end(), c.extra.begin(), c.extra.end());
      overrides.push_back(std::string("attention.disable_flash_attention=") + (disable_fused ? "true" : "false"));
      torch::manual_seed(11);
      auto m = make_mla(overrides);
      randomize(*m);
      auto x = torch::randn({2, 7, 32});
      AttentionContext ctx;
      torch::NoGradGuard guard;
      auto y = m->forward(x, ctx);
      auto ref = mla_reference(params_of(*m), x, c.dims);
      const double err = max_abs_diff(y, ref);
      EXPECT_LT(err, 1e-5);
      EXPECT_GT(ref.abs().max().item<double>(), 1e-2);  // not trivially zero
      worst = std::max(worst, err);
    }
  }
  std::cout << "[mla reference] worst max abs error over " << cases().size() << " cases x 2 paths: " << worst << "\n";
}

TEST(MlaAttention, IsCausalForEveryOptionCombination) {
  for (const auto& c : cases()) {
    for (bool disable_fused : {false, true}) {
      SCOPED_TRACE(c.name + (disable_fused ? " explicit" : " fused"));
      auto overrides = mla_overrides(c.dims);
      overrides.insert(overrides.end(), c.extra.begin(), c.extra.end());
      overrides.push_back(std::string("attention.disable_flash_attention=") + (disable_fused ? "true" : "false"));
      auto m = make_mla(overrides);
      torch::NoGradGuard guard;
      auto x = torch::randn({2, 9, 32});
      for (int64_t t : {0, 4, 7}) {
        auto x2 = x.clone();
        x2.narrow(1, t + 1, 9 - t - 1).add_(torch::randn({2, 9 - t - 1, 32}) * 3.0);
        AttentionContext a, b;
        auto y1 = m->forward(x, a), y2 = m->forward(x2, b);
        EXPECT_LT(max_abs_diff(y1.narrow(1, 0, t + 1), y2.narrow(1, 0, t + 1)), 1e-6) << "t=" << t;
        EXPECT_GT(max_abs_diff(y1.narrow(1, t + 1, 9 - t - 1), y2.narrow(1, t + 1, 9 - t - 1)), 1e-4) << "t=" << t;
      }
    }
  }
}

TEST(MlaAttention, FusedAndExplicitPathsAgree) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    auto overrides = mla_overrides(c.dims);
    overrides.insert(overrides.end(), c.extra.begin(), c.extra.end());
    auto fused = make_mla(overrides);
    overrides.push_back("attention.disable_flash_attention=true");
    auto expl = make_mla(overrides);
    copy_parameters(*fused, *expl);
    torch::NoGradGuard guard;
    auto x = torch::randn({3, 11, 32});
    AttentionContext a, b;
    EXPECT_LT(max_abs_diff(fused->forward(x, a), expl->forward(x, b)), 1e-5);
  }
}

TEST(MlaAttention, HfRopeInterleaveEqualsInterleavedRotationUpToAPermutation) {
  // transformers' DeepSeek-V3 path (rope_interleave): reorder channels even-first then odd, then rotate-half.
  // memtx rotates even/odd pairs in place. Same rotation, channels permuted alike in q and k: equal scores.
  const int64_t r = 8;
  auto q = torch::randn({1, 1, 5, r}, torch::kFloat64), k = torch::randn({1, 1, 5, r}, torch::kFloat64);
  auto perm = torch::cat({torch::arange(0, r, 2), torch::arange(1, r, 2)});
  auto hf = [&](const torch::Tensor& t) { return ops::apply_rope(t.index_select(-1, perm), 3, 1e4, RopeLayout::Half); };
  auto ours = [&](const torch::Tensor& t) { return ops::apply_rope(t, 3, 1e4, RopeLayout::Interleaved); };
  EXPECT_LT(max_abs_diff(hf(q), ours(q).index_select(-1, perm)), 1e-12);
  auto scores_hf = torch::matmul(hf(q), hf(k).transpose(-2, -1));
  auto scores_ours = torch::matmul(ours(q), ours(k).transpose(-2, -1));
  EXPECT_LT(max_abs_diff(scores_hf, scores_ours), 1e-12);
  // Plain rotate-half without the reordering is a different rotation.
  auto scores_half = torch::matmul(ops::apply_rope(q, 3, 1e4, RopeLayout::Half), ops::apply_rope(k, 0, 1e4, RopeLayout::Half).transpose(-2, -1));
  auto scores_inter = torch::matmul(ours(q), ops::apply_rope(k, 0, 1e4, RopeLayout::Interleaved).transpose(-2, -1));
  EXPECT_GT(max_abs_diff(scores_half, scores_inter), 1e-3);
}

TEST(MlaAttention, BadInputNamesTheShape) {
  auto m = make_mla(mla_overrides(MlaDims{}));
  AttentionContext ctx;
  try {
    m->forward(torch::randn({2, 5, 31}), ctx);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("[2, 5, 31]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace memtx::test::mla
