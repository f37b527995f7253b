// The linear plugin (causal linear attention): the chunked computation against a sequential float64
// recurrence written from o_t = sigma(q_t) S_t / (sigma(q_t) z_t + eps) (forward and every gradient, several
// chunk sizes, GQA groupings), the state against its closed form, and the chunk size option. Streaming in
// pieces, causality, the state's shape and size, bfloat16 and errors: recurrent_variants_test.cpp.
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
  auto x = torch::randn({2, 13, 32}, torch::kFloat64);
  const auto run = expect_matches_reference(
      *m.module, x, [](const Params& p, const torch::Tensor& xr) { return linear_reference(p, xr, 4, 2, 8); }, 1e-12,
      1e-11);
  std::cout << "[linear] chunk " << chunk << " vs recurrence: " << run.error << "\n";
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

// The state is the closed form: S = sum_t sigma(k_t)^T v_t, z = sum_t sigma(k_t) per kv head.
TEST(LinearState, IsTheClosedFormOfTheKeysAndValues) {
  auto m = make_module("linear", {"attention.n_kv_group=2", "attention.linear_chunk_size=4"});
  spread_weights(*m.module);
  torch::NoGradGuard guard;
  auto x = torch::randn({2, 16, 32});
  LayerState whole_state = m->initial_state(2, {});
  AttentionContext whole_ctx;
  whole_ctx.state = &whole_state;
  m->forward(x, whole_ctx);
  auto p = params_of(*m.module);
  auto k = sigma(project(p, "k_proj", x.to(torch::kFloat64)).view({2, 16, 2, 8}));
  auto v = project(p, "v_proj", x.to(torch::kFloat64)).view({2, 16, 2, 8});
  EXPECT_LE(rel_diff(whole_state["S"], torch::einsum("btgi,btgj->bgij", {k, v})), 1e-5);
  EXPECT_LE(rel_diff(whole_state["z"], k.sum(1)), 1e-5);
}

TEST(LinearOptions, ChunkSizeDefaultAndMinimum) {
  Config c = tiny_config();
  EXPECT_EQ(c.get_int("attention.linear_chunk_size"), 64);
  EXPECT_THROW(c.apply_override("attention.linear_chunk_size=0"), Error);
}

}  // namespace
}  // namespace memtx::test
