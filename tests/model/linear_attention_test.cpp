// The linear plugin (causal linear attention): the chunked computation against a sequential float64
// recurrence written from o_t = sigma(q_t) S_t / (sigma(q_t) z_t + eps) (forward and every gradient, several
// chunk sizes, GQA groupings), streaming in pieces against one pass (module and whole model), causality,
// the state's shape and size, and errors.
#include "recurrent_support.hpp"

namespace memtx::test {
namespace {

using namespace recurrent;

class LinearVsRecurrence : public ::testing::TestWithParam<int64_t> {};

TEST_P(LinearVsRecurrence, ChunkedForwardAndGradientsMatchTheSequentialRecurrence) {
  const int64_t chunk = GetParam();
  auto m = make_module("linear", {"attention.n_kv_group=2", "attention.linear_chunk_size=" + std::to_string(chunk)});
  spread_weights(*m.module);
  m->to(torch::kFloat64);
  torch::manual_seed(21);
  auto x = torch::randn({2, 13, 32}, torch::kFloat64).requires_grad_(true);
  AttentionContext ctx;
  auto y = m->forward(x, ctx);
  auto w = torch::randn_like(y);
  (y * w).sum().backward();

  auto p = params_of(*m.module, /*requires_grad=*/true);
  auto xr = x.detach().clone().requires_grad_(true);
  auto ref = linear_reference(p, xr, 4, 2, 8);
  (ref * w).sum().backward();
  const double err = rel_diff(y.detach(), ref.detach());
  std::cout << "[linear] chunk " << chunk << " vs recurrence: " << err << "\n";
  EXPECT_LE(err, 1e-12);
  EXPECT_LE(rel_diff(x.grad(), xr.grad()), 1e-11);
  auto grads = gradients_of(*m.module);
  for (auto& [name, t] : p) {
    ASSERT_TRUE(grads.count(name)) << name;
    EXPECT_LE(rel_diff(grads[name], t.grad()), 1e-11) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(ChunkSizes, LinearVsRecurrence, ::testing::Values(1, 3, 4, 5, 13, 64));

TEST(LinearGqa, EveryGroupingMatchesTheRecurrenceInFloat32) {
  for (int64_t groups : {1, 4}) {
    auto m = make_module("linear", {"attention.n_kv_group=" + std::to_string(groups), "attention.linear_chunk_size=4"});
    spread_weights(*m.module);
    torch::NoGradGuard guard;
    auto x = torch::randn({2, 11, 32});
    AttentionContext ctx;
    auto y = m->forward(x, ctx);
    EXPECT_LE(rel_diff(y, linear_reference(params_of(*m.module), x, 4, groups, 8)), 1e-5) << groups;
    EXPECT_EQ(m->initial_state(2, {})["S"].sizes(), (std::vector<int64_t>{2, groups, 8, 8}));
  }
}

TEST(LinearStreaming, PiecesOfAnySizeEqualOnePass) {
  auto m = make_module("linear", {"attention.n_kv_group=2", "attention.linear_chunk_size=4"});
  spread_weights(*m.module);
  torch::NoGradGuard guard;
  auto x = torch::randn({2, 16, 32});
  LayerState whole_state = m->initial_state(2, {});
  AttentionContext whole_ctx;
  whole_ctx.state = &whole_state;
  auto whole = m->forward(x, whole_ctx);
  AttentionContext plain;
  EXPECT_LE(max_abs_diff(m->forward(x, plain), whole), 1e-6);
  for (const std::vector<int64_t>& pieces : {std::vector<int64_t>{1}, {1, 3, 5, 7}, {6, 10}}) {
    LayerState state = m->initial_state(2, {});
    auto out = forward_in_pieces(*m.module, x, state, pieces);
    EXPECT_LE(rel_diff(out, whole), 1e-5) << "pieces from " << pieces[0];
    EXPECT_LE(rel_diff(state["S"], whole_state["S"]), 1e-5);
    EXPECT_LE(rel_diff(state["z"], whole_state["z"]), 1e-5);
  }
  // The state is the closed form: S = sum_t sigma(k_t)^T v_t, z = sum_t sigma(k_t) per kv head.
  auto p = params_of(*m.module);
  auto k = sigma(project(p, "k_proj", x.to(torch::kFloat64)).view({2, 16, 2, 8}));
  auto v = project(p, "v_proj", x.to(torch::kFloat64)).view({2, 16, 2, 8});
  EXPECT_LE(rel_diff(whole_state["S"], torch::einsum("btgi,btgj->bgij", {k, v})), 1e-5);
  EXPECT_LE(rel_diff(whole_state["z"], k.sum(1)), 1e-5);
}

TEST(LinearStreaming, WholeModelInPiecesEqualsOnePass) {
  Config c = tiny_config({"attention.attention_variant=linear", "attention.n_kv_group=2",
                          "attention.linear_chunk_size=3", "model.use_rope=false"});
  Transformer model(c, plugin_registry());
  EXPECT_EQ(model->segment_length(), 0);  // linear takes inputs of any length
  for (auto& block : model->blocks) spread_weights(*block->attn);
  torch::NoGradGuard guard;
  auto tokens = torch::randint(0, 97, {2, 16}, torch::kLong);
  auto whole = model->forward(tokens);
  ModelState state = model->initial_state(2);
  std::vector<torch::Tensor> outs;
  int64_t start = 0;
  for (int64_t len : {1, 3, 5, 7}) {
    outs.push_back(model->forward(tokens.narrow(1, start, len), &state, /*use_cache=*/true));
    start += len;
  }
  EXPECT_LE(rel_diff(torch::cat(outs, 1), whole), 1e-4);
}

TEST(LinearCausality, LaterInputsDoNotChangeEarlierOutputs) {
  auto m = make_module("linear", {"attention.linear_chunk_size=4"});
  spread_weights(*m.module);
  torch::NoGradGuard guard;
  auto x = torch::randn({2, 14, 32});
  for (int64_t t : {0, 3, 4, 9, 13}) {
    auto y = x.clone();
    y.narrow(1, t, 14 - t).add_(torch::randn({2, 14 - t, 32}));
    AttentionContext c1, c2;
    auto a = m->forward(x, c1), b = m->forward(y, c2);
    if (t > 0) EXPECT_LE(max_abs_diff(a.narrow(1, 0, t), b.narrow(1, 0, t)), 1e-6) << "t=" << t;
    EXPECT_GT(max_abs_diff(a.narrow(1, t, 1), b.narrow(1, t, 1)), 1e-4) << "t=" << t;
  }
}

TEST(LinearState, ShapesDtypesAndConstantSize) {
  auto m = make_module("linear", {"attention.n_kv_group=2"});
  EXPECT_TRUE(m->is_recurrent());
  const VariantDesc* desc = plugin_registry().find("linear");
  ASSERT_NE(desc, nullptr);
  EXPECT_TRUE(desc->recurrent);
  auto s64 = m->initial_state(3, torch::TensorOptions().dtype(torch::kFloat64));
  EXPECT_EQ(s64["S"].sizes(), (std::vector<int64_t>{3, 2, 8, 8}));
  EXPECT_EQ(s64["z"].sizes(), (std::vector<int64_t>{3, 2, 8}));
  EXPECT_EQ(s64["S"].scalar_type(), torch::kFloat64);
  EXPECT_EQ(m->initial_state(1, torch::TensorOptions().dtype(torch::kBFloat16))["S"].scalar_type(), torch::kFloat32);
  torch::NoGradGuard guard;
  LayerState state = m->initial_state(1, {});
  for (int step = 0; step < 50; ++step) {
    AttentionContext ctx;
    ctx.state = &state;
    m->forward(torch::randn({1, 1 + step % 9, 32}), ctx);
    ASSERT_EQ(state.size(), 2u);
    ASSERT_EQ(state["S"].sizes(), (std::vector<int64_t>{1, 2, 8, 8}));
    ASSERT_EQ(state["z"].sizes(), (std::vector<int64_t>{1, 2, 8}));
  }
  EXPECT_TRUE(torch::isfinite(state["S"]).all().item<bool>());
}

TEST(LinearState, Bfloat16ModelKeepsTheStateInFloat32) {
  auto m = make_module("linear", {"attention.n_kv_group=2", "attention.linear_chunk_size=4"});
  spread_weights(*m.module);
  torch::NoGradGuard guard;
  auto x = torch::randn({2, 10, 32});
  LayerState s32 = m->initial_state(2, {});
  auto y32 = forward_in_pieces(*m.module, x, s32, {3});
  m->to(torch::kBFloat16);
  LayerState s16 = m->initial_state(2, torch::TensorOptions().dtype(torch::kBFloat16));
  auto y16 = forward_in_pieces(*m.module, x.to(torch::kBFloat16), s16, {3});
  EXPECT_EQ(y16.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(s16["S"].scalar_type(), torch::kFloat32);
  EXPECT_LE(rel_diff(y16.to(torch::kFloat32), y32), 5e-2);
}

TEST(LinearErrors, BadStateInputOrChunkSize) {
  auto m = make_module("linear");
  LayerState state = m->initial_state(2, {});
  state["S"] = torch::zeros({2, 4, 8, 7});
  AttentionContext ctx;
  ctx.state = &state;
  try {
    m->forward(torch::randn({2, 3, 32}), ctx);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("'S'"), std::string::npos) << e.what();
  }
  AttentionContext plain;
  EXPECT_THROW(m->forward(torch::randn({2, 3, 31}), plain), Error);
  Config c = tiny_config();
  EXPECT_EQ(c.get_int("attention.linear_chunk_size"), 64);
  EXPECT_THROW(c.apply_override("attention.linear_chunk_size=0"), Error);
}

}  // namespace
}  // namespace memtx::test
