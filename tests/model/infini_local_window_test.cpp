// Infini-attention with infini_attention.local_segments > 1: the local softmax attention also sees the last
// (local_segments - 1) completed segments. Against the float64 reference of recurrent_support.hpp (forward and
// every gradient), fed in pieces through the state (equal to one call; the state keeps exactly the window's
// completed tokens, never more), the whole model through its segment engine, and a malformed state.
#include "common/error_of.hpp"
#include "recurrent_support.hpp"

namespace memtx::test {
namespace {

using namespace recurrent;

ModuleUnderTest windowed_module(int64_t local_segments, const std::string& update = "delta") {
  auto m = make_module("infini", {"attention.n_kv_group=2", "infini_attention.segment_length=4",
                                  "infini_attention.memory_update=" + update,
                                  "infini_attention.balance_init_type=normal",
                                  "infini_attention.local_segments=" + std::to_string(local_segments)});
  spread_weights(*m.module);
  m->to(torch::kFloat64);
  return m;
}

TEST(InfiniLocalWindow, ForwardAndGradientsMatchTheReference) {
  for (int64_t segments : {2, 3}) {
    for (const std::string update : {"linear", "delta"}) {
      SCOPED_TRACE("local_segments " + std::to_string(segments) + " " + update);
      auto m = windowed_module(segments, update);
      torch::manual_seed(5);
      auto x = torch::randn({2, 14, 32}, torch::kFloat64);  // segments of 4, 4, 4, 2
      InfiniRef o;
      o.delta = update == "delta";
      o.local_segments = segments;
      const auto run = expect_matches_reference(
          *m.module, x, [&](const Params& p, const torch::Tensor& xr) { return infini_reference(p, xr, o); }, 1e-10,
          1e-9);
      // The window is seen: one segment shorter (for 2, the paper's segment-only attention) differs.
      torch::NoGradGuard guard;
      InfiniRef shorter = o;
      shorter.local_segments = segments - 1;
      EXPECT_GT(rel_diff(run.y, infini_reference(run.params, x, shorter)), 1e-3);
    }
  }
}

TEST(InfiniLocalWindow, PiecesThroughTheStateEqualOneCallAndKeepOnlyTheWindow) {
  const int64_t L = 4;
  for (int64_t segments : {2, 3}) {
    auto m = windowed_module(segments);
    torch::NoGradGuard guard;
    torch::manual_seed(9);
    auto x = torch::randn({2, 23, 32}, torch::kFloat64);
    AttentionContext whole_ctx;
    const auto whole = m->forward(x, whole_ctx);
    for (const std::vector<int64_t>& pieces : std::vector<std::vector<int64_t>>{{1}, {3, 5, 1, 6}, {9}, {23}}) {
      SCOPED_TRACE("local_segments " + std::to_string(segments) + " pieces from " + std::to_string(pieces[0]));
      LayerState state = m->initial_state(2, torch::TensorOptions().dtype(torch::kFloat64));
      ASSERT_EQ(state.at("pk").size(2), 0);
      auto window_kept = [&](const LayerState& st, int64_t done) {
        // The completed segments' last (segments - 1) * L tokens, as own tensors (no view of the call's buffer).
        const int64_t kept = std::min((segments - 1) * L, (done / L) * L);
        EXPECT_EQ(st.at("pk").size(2), kept) << "after " << done << " tokens";
        EXPECT_EQ(st.at("pv").size(2), kept);
        EXPECT_EQ(st.at("pk").storage().nbytes(), st.at("pk").numel() * st.at("pk").element_size());
      };
      const auto pieced = forward_in_pieces(*m.module, x, state, pieces, /*use_cache=*/false, window_kept);
      EXPECT_LE(rel_diff(pieced, whole), 1e-12);
      // They are the pre-RoPE keys of those tokens: the layer's own k projection of the input.
      const int64_t kept = state.at("pk").size(2), first = (x.size(1) / L) * L - kept;
      auto k = m->named_parameters()["k_proj.weight"];
      auto expected = torch::matmul(x.narrow(1, first, kept), k.t()).view({2, kept, 2, 8}).transpose(1, 2);
      EXPECT_LE(rel_diff(state.at("pk"), expected), 1e-12);
    }
  }
}

TEST(InfiniLocalWindow, WholeModelInSegmentsEqualsOneCallAndSeesAcrossTheBoundary) {
  auto config = [](int64_t segments) {
    return tiny_config({"attention.attention_variant=infini", "attention.n_kv_group=2",
                        "infini_attention.segment_length=4", "infini_attention.balance_init_type=normal",
                        "infini_attention.turn_on_memory=false",
                        "infini_attention.local_segments=" + std::to_string(segments)});
  };
  torch::manual_seed(2);
  Transformer windowed(config(2), plugin_registry());
  torch::NoGradGuard guard;
  auto tokens = torch::randint(0, 97, {2, 14}, torch::kLong);
  const auto whole = windowed->forward(tokens);
  ModelState state = windowed->initial_state(2);
  std::vector<torch::Tensor> outs;
  int64_t start = 0;
  for (int64_t len : {6, 1, 1, 1, 5}) {
    outs.push_back(windowed->forward(tokens.narrow(1, start, len), &state, true));
    start += len;
  }
  EXPECT_LE(rel_diff(torch::cat(outs, 1), whole), 1e-5);
  // Without the memory, earlier segments reach a token only through the window, one segment per layer: in
  // these 2 layers, changing token 2 (segment 0) changes segments 1 (4..7) and 2 (8..11), not 3 (12, 13).
  ASSERT_EQ(windowed->blocks.size(), 2u);
  auto changed = tokens.clone();
  changed[0][2] = (tokens[0][2].item<int64_t>() + 1) % 97;
  const auto after = windowed->forward(changed);
  EXPECT_GT(max_abs_diff(after[0].narrow(0, 4, 4), whole[0].narrow(0, 4, 4)), 1e-4);
  EXPECT_GT(max_abs_diff(after[0].narrow(0, 8, 4), whole[0].narrow(0, 8, 4)), 1e-4);
  EXPECT_LE(max_abs_diff(after[0].narrow(0, 12, 2), whole[0].narrow(0, 12, 2)), 1e-6);
  EXPECT_LE(max_abs_diff(after[1], whole[1]), 1e-6);
}

TEST(InfiniLocalWindow, MalformedWindowStateIsRefusedNamingIt) {
  auto m = windowed_module(2);
  torch::NoGradGuard guard;
  LayerState state = m->initial_state(1, torch::TensorOptions().dtype(torch::kFloat64));
  state["pk"] = torch::zeros({1, 2, 5, 8}, torch::kFloat64);  // more than (2 - 1) * 4 tokens
  state["pv"] = torch::zeros({1, 2, 5, 8}, torch::kFloat64);
  auto message = [&] {
    return memtx_test::error_of(
        [&] {
          AttentionContext ctx;
          ctx.state = &state;
          m->forward(torch::randn({1, 3, 32}, torch::kFloat64), ctx);
        },
        StatusCode::InvalidArgument);
  };
  EXPECT_NE(message().find("'pk' and 'pv'"), std::string::npos);
  state["pk"] = torch::zeros({1, 2, 4, 8}, torch::kFloat64);
  state["pv"] = torch::zeros({1, 2, 3, 8}, torch::kFloat64);
  EXPECT_NE(message().find("'pk' and 'pv'"), std::string::npos);
}

}  // namespace
}  // namespace memtx::test
