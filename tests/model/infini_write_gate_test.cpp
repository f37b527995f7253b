// The infini layer's optional write gate (infini_attention.write_gate): w_t = hard_sigmoid(x_t W_w + b_w) per
// kv head scales what token t writes into the memory. Checked against the float64 reference of
// recurrent_support.hpp (forward and every gradient, both update rules, weights that reach both clamps), fed
// in pieces (the unfinished segment's weights ride in the state), and for the property it exists for: tokens
// whose weight is 0 leave M and z bit for bit as they were, so a query after 3 or 300 segments of such
// filler reads the same memory and gives the same output; and the sparsity penalty on the weights
// (infini_attention.write_sparsity) in closed form.
#include <cmath>

#include "recurrent_support.hpp"

namespace memtx::test {
namespace {

using namespace recurrent;

constexpr int64_t kHidden = 32;

ModuleUnderTest gated_layer(const std::string& update, int64_t segment, const std::string& sparsity = "0") {
  auto m = make_module("infini", {"attention.n_kv_group=2", "infini_attention.segment_length=" + std::to_string(segment),
                                  "infini_attention.memory_update=" + update, "infini_attention.write_gate=true",
                                  "infini_attention.write_sparsity=" + sparsity,
                                  "infini_attention.balance_init_type=normal"});
  spread_weights(*m.module);
  torch::NoGradGuard guard;
  auto params = m->named_parameters();
  torch::manual_seed(5);
  params["write_gate.weight"].normal_(0.0, 1.5);  // spreads x W_w / 6 + 1/2 over both clamps and the ramp
  params["write_gate.bias"].uniform_(-1.0, 1.0);
  return m;
}

class InfiniWriteGateVsReference : public ::testing::TestWithParam<std::string> {};

TEST_P(InfiniWriteGateVsReference, ForwardAndGradientsMatch) {
  const std::string update = GetParam();
  auto m = gated_layer(update, 4);
  m->to(torch::kFloat64);
  torch::manual_seed(3);
  auto x = torch::randn({2, 14, kHidden}, torch::kFloat64);
  InfiniRef o;
  o.delta = update == "delta";
  o.write_gate = true;
  const auto run = expect_matches_reference(
      *m.module, x, [&](const Params& p, const torch::Tensor& xr) { return infini_reference(p, xr, o); }, 1e-10, 1e-9);
  ASSERT_GT(gradients_of(*m.module)["write_gate.weight"].abs().max().item<double>(), 0.0);

  // The weights reach both clamps and the ramp, and the comparison sees the gate: without it the output differs.
  torch::NoGradGuard guard;
  auto weights = gate_ref(project(run.params, "write_gate", x), "hard_sigmoid");
  EXPECT_GT((weights == 0.0).sum().item<int64_t>(), 0);
  EXPECT_GT((weights == 1.0).sum().item<int64_t>(), 0);
  EXPECT_GT(((weights > 0.0) & (weights < 1.0)).sum().item<int64_t>(), 0);
  InfiniRef ungated = o;
  ungated.write_gate = false;
  EXPECT_GT(rel_diff(run.y, infini_reference(run.params, x, ungated)), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Updates, InfiniWriteGateVsReference, ::testing::Values("linear", "delta"));

TEST(InfiniWriteGate, SparsityPenaltyIsTheMeanWriteWeightWhileTraining) {
  // write_sparsity lambda: auxiliary_loss() = lambda * mean(relu(u / 6 + 1/2)), u = x W_w + b_w, over batch,
  // tokens and kv heads (w without its upper clamp), whose gradient for the bias b_g is lambda / (6 B T G) per
  // token of head g that writes at all (w > 0, saturated ones included).
  const double lambda = 0.25;
  auto m = gated_layer("linear", 4, "0.25");
  m->to(torch::kFloat64);
  m->train();
  torch::manual_seed(6);
  auto x = torch::randn({2, 14, kHidden}, torch::kFloat64);
  AttentionContext ctx;
  m->forward(x, ctx);
  const torch::Tensor penalty = m->auxiliary_loss();
  ASSERT_TRUE(penalty.defined());
  auto p = params_of(*m.module, /*requires_grad=*/false);
  const auto u = project(p, "write_gate", x);  // [B, T, G]
  const auto w = gate_ref(u, "hard_sigmoid");
  const auto unclamped = torch::relu(u / 6.0 + 0.5);
  EXPECT_NEAR(penalty.item<double>(), lambda * unclamped.mean().item<double>(), 1e-12);
  ASSERT_GT((w == 1.0).sum().item<int64_t>(), 0);  // saturated tokens, where the penalty exceeds lambda * mean(w)
  EXPECT_GT(penalty.item<double>(), lambda * w.mean().item<double>() + 1e-3);
  penalty.backward();
  const auto open = (w > 0.0).to(torch::kFloat64).sum(std::vector<int64_t>{0, 1});  // [G]
  ASSERT_GT(open.min().item<double>(), 0.0);
  ASSERT_LT(open.max().item<double>(), 2.0 * 14.0);  // some tokens write nothing: their gradient is 0
  const auto expected = lambda * open / (6.0 * static_cast<double>(w.numel()));
  EXPECT_LE(max_abs_diff(m->named_parameters()["write_gate.bias"].grad(), expected), 1e-14);

  // No penalty outside training, nor with write_sparsity 0.
  m->eval();
  m->forward(x, ctx);
  EXPECT_FALSE(m->auxiliary_loss().defined());
  auto unpenalised = gated_layer("linear", 4);
  unpenalised->train();
  unpenalised->forward(x.to(torch::kFloat32), ctx);
  EXPECT_FALSE(unpenalised->auxiliary_loss().defined());
}

TEST(InfiniWriteGate, PiecesCarryTheUnfinishedSegmentsWeights) {
  auto m = gated_layer("linear", 5);
  torch::NoGradGuard guard;
  torch::manual_seed(4);
  auto x = torch::randn({2, 17, kHidden});
  AttentionContext ctx;
  auto whole = m->forward(x, ctx);
  LayerState state = m->initial_state(2, {});
  ASSERT_TRUE(state.count("w"));
  auto pieces = forward_in_pieces(*m.module, x, state, {3, 1, 4});
  EXPECT_LE(max_abs_diff(pieces, whole), 1e-5);
  EXPECT_EQ(state.at("w").sizes(), (std::vector<int64_t>{2, 2, 17 % 5}));
  // A state whose cached tokens lack their weights is refused.
  state.erase("w");
  AttentionContext piece;
  piece.state = &state;
  EXPECT_THROW(m->forward(x.narrow(1, 0, 1), piece), Error);
}

TEST(InfiniWriteGate, SkippedFillerLeavesTheMemoryExactlyAsItWas) {
  // Feature 0 of x marks the tokens: +3 writes (w = 1), -3 skips (w = 0), through W_w = 6 e_0, b_w = 0.
  auto m = gated_layer("delta", 4);
  torch::NoGradGuard guard;
  auto params = m->named_parameters();
  params["write_gate.weight"].zero_();
  params["write_gate.weight"].select(1, 0).fill_(6.0);
  params["write_gate.bias"].zero_();
  torch::manual_seed(9);
  auto needle = torch::randn({1, 4, kHidden});
  needle.select(2, 0).fill_(3.0);
  auto filler_segment = torch::randn({1, 4, kHidden});
  filler_segment.select(2, 0).fill_(-3.0);
  auto query = torch::randn({1, 4, kHidden});

  // The query's output after the needle and `filler_segments` segments of filler; `unchanged`: whether M and z
  // were left bit for bit as the needle left them.
  auto run = [&](int64_t filler_segments, bool* unchanged) {
    LayerState state = m->initial_state(1, {});
    AttentionContext ctx;
    ctx.state = &state;
    m->forward(needle, ctx);
    const auto M = state.at("M").clone(), z = state.at("z").clone();
    EXPECT_GT(M.abs().max().item<double>(), 0.0);  // the needle was written
    for (int64_t i = 0; i < filler_segments; ++i) m->forward(filler_segment, ctx);
    *unchanged = torch::equal(state.at("M"), M) && torch::equal(state.at("z"), z);
    return m->forward(query, ctx);
  };
  bool unchanged_3 = false, unchanged_300 = false, unchanged_ungated = true;
  auto after_3 = run(3, &unchanged_3), after_300 = run(300, &unchanged_300);
  EXPECT_TRUE(unchanged_3);
  EXPECT_TRUE(unchanged_300);
  EXPECT_TRUE(torch::equal(after_3, after_300));
  // Filler that writes (w = 1 for every token) changes the memory and what the query reads.
  params["write_gate.bias"].fill_(20.0);
  auto ungated = run(3, &unchanged_ungated);
  EXPECT_FALSE(unchanged_ungated);
  EXPECT_GT(max_abs_diff(ungated, after_3), 1e-4);
}

}  // namespace
}  // namespace memtx::test
