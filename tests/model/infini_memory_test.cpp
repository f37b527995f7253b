// The compressive memory of the infini plugin against closed forms, on a hand-built layer where every term
// can be read off: hidden 8, two query heads and one kv head of size 4 with k = x[0:4], v = x[4:8], both
// query heads q = x[0:4], Wo = I, and the gate clamp(1) = 1, so each head outputs A_mem alone.
// Keys with orthonormal sigma rows: sigma = ELU + 1 is > 0 everywhere, so no two sigma rows are exactly
// orthogonal; a raw key of 0 on channel i (sigma(0) = 1) and -40 elsewhere (sigma(-40) = e^-40 ~ 4e-18)
// has sigma(k_i) = e_i to float64 precision. Then, from an empty memory:
//   store (K, V):       M = sigma(K)^T V, z = 1;  read of k_i: v_i / (1 + eps)
//   store again, delta: retrieved = V / (1 + eps), so M gains only sigma(K)^T V eps / (1 + eps); z = 2:
//                       read of k_i: v_i (1 + eps / (1 + eps)) / (2 + eps) ~ v_i / 2
//   store again, linear: M = 2 sigma(K)^T V, z = 2: read of k_i: 2 v_i / (2 + eps) ~ v_i
// Also here: A_mem = 0 on the first segment, the memory is keyed on pre-RoPE keys (the retrieval test
// fails if keys are rotated before storing), and a needle in the first segment reaches the third segment (the
// state size of G d_k (d_v + 1) per sequence and batch items not sharing memory: recurrent_variants_test.cpp).
#include "recurrent_support.hpp"

namespace memtx::test {
namespace {

using namespace recurrent;

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

ModuleUnderTest retrieval_layer(const std::string& update, int64_t segment, bool rope = true) {
  auto m = make_module("infini", {"model.hidden_dim=8", "model.num_heads=2", "attention.n_kv_group=1",
                                  "infini_attention.segment_length=" + std::to_string(segment),
                                  "infini_attention.memory_update=" + update, "infini_attention.balance_act_type=clamp",
                                  "infini_attention.balance_init_type=ones",
                                  std::string("model.use_rope=") + (rope ? "true" : "false")});
  m->to(torch::kFloat64);
  torch::NoGradGuard guard;
  auto p = m->named_parameters();
  auto eye = torch::eye(4, kF64), zero = torch::zeros({4, 4}, kF64);
  auto first_half = torch::cat({eye, zero}, 1);
  p["k_proj.weight"].copy_(first_half);
  p["v_proj.weight"].copy_(torch::cat({zero, eye}, 1));
  p["q_proj.weight"].copy_(torch::cat({first_half, first_half}, 0));
  p["o_proj.weight"].copy_(torch::eye(8, kF64));
  return m;
}

torch::Tensor orthonormal_sigma_keys() { return torch::full({4, 4}, -40.0, kF64) + 40.0 * torch::eye(4, kF64); }

torch::Tensor tokens(const torch::Tensor& keys, const torch::Tensor& values) {
  return torch::cat({keys, values}, 1).unsqueeze(0);  // [1, n, 8]
}

torch::Tensor run(ModuleUnderTest& m, LayerState& state, const torch::Tensor& x) {
  AttentionContext ctx;
  ctx.state = &state;
  return m->forward(x, ctx);
}

TEST(InfiniMemory, FirstSegmentReadsExactlyZero) {
  for (const char* update : {"linear", "delta"}) {
    auto m = retrieval_layer(update, 4);
    torch::NoGradGuard guard;
    auto x = 10.0 * torch::randn({1, 4, 8}, kF64);
    AttentionContext plain;
    auto y = m->forward(x, plain);
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    EXPECT_EQ(y.abs().max().item<double>(), 0.0) << update;  // 0 / eps, not NaN
    LayerState state = m->initial_state(1, kF64);
    EXPECT_EQ(run(m, state, x).abs().max().item<double>(), 0.0);
    EXPECT_GT(run(m, state, x).abs().max().item<double>(), 1e-3);  // the second segment reads what was stored
  }
}

TEST(InfiniMemory, DeltaStoringTheSamePairTwiceLeavesTheMemoryUnchanged) {
  // One (k, v) pair, any key: segments of one token. Closed forms (M1 = sigma(k)^T v, z1 = sigma(k)):
  //   delta:  M2 = M1 + sigma(k)^T v * eps / (|sigma(k)|^2 + eps) ;  linear: M2 = 2 M1 ;  z2 = 2 z1 for both.
  torch::manual_seed(12);
  auto key = torch::randn({1, 4}, kF64), value = torch::randn({1, 4}, kF64);
  for (const std::string update : {"delta", "linear"}) {
    auto m = retrieval_layer(update, 1);
    torch::NoGradGuard guard;
    LayerState state = m->initial_state(1, kF64);
    run(m, state, tokens(key, value));
    auto M1 = state["M"][0][0].clone(), z1 = state["z"][0][0].clone();
    auto sk = sigma(key[0]);
    EXPECT_LE(max_abs_diff(M1, torch::outer(sk, value[0])), 1e-14);
    EXPECT_LE(max_abs_diff(z1, sk), 1e-14);
    run(m, state, tokens(key, value));
    auto M2 = state["M"][0][0], z2 = state["z"][0][0];
    const double n2 = sk.dot(sk).item<double>();
    auto expected = update == "delta" ? M1 + M1 * (kEps / (n2 + kEps)) : 2.0 * M1;
    EXPECT_LE(max_abs_diff(M2, expected), 1e-13) << update;
    EXPECT_LE(max_abs_diff(z2, 2.0 * z1), 1e-14);
    if (update == "delta") EXPECT_LE(rel_diff(M2, M1), 1e-6);
  }
  // A set of pairs whose sigma keys are orthonormal: the whole set stored twice leaves M unchanged (up to
  // the eps term) with delta.
  auto keys = orthonormal_sigma_keys(), values = torch::randn({4, 4}, kF64);
  auto m = retrieval_layer("delta", 4);
  torch::NoGradGuard guard;
  LayerState state = m->initial_state(1, kF64);
  run(m, state, tokens(keys, values));
  auto M1 = state["M"][0][0].clone();
  EXPECT_LE(max_abs_diff(M1, values), 1e-14);  // sigma(K) = I
  run(m, state, tokens(keys, values));
  EXPECT_LE(max_abs_diff(state["M"][0][0], M1 * (1 + kEps / (1 + kEps))), 1e-14);
}

TEST(InfiniMemory, OrthonormalKeysAreRetrievedExactlyFromPreRopeKeys) {
  // RoPE on. Segment 1 stores (k_i, v_i) at positions 0..3; segment 2 and 3 query the keys in another order
  // (positions 4..7, 8..11). The memory is keyed on pre-RoPE keys, so position does not matter.
  torch::manual_seed(13);
  auto keys = orthonormal_sigma_keys(), values = torch::randn({4, 4}, kF64);
  auto perm = torch::tensor({2, 0, 3, 1}, torch::kLong);
  auto keys_p = keys.index_select(0, perm), values_p = values.index_select(0, perm);
  auto both_heads = [](const torch::Tensor& v) { return torch::cat({v, v}, 1).unsqueeze(0); };  // [1, 4, 8]
  for (const std::string update : {"delta", "linear"}) {
    SCOPED_TRACE(update);
    auto m = retrieval_layer(update, 4);
    torch::NoGradGuard guard;
    LayerState state = m->initial_state(1, kF64);
    EXPECT_EQ(run(m, state, tokens(keys, values)).abs().max().item<double>(), 0.0);
    auto second = run(m, state, tokens(keys_p, values_p));
    EXPECT_LE(max_abs_diff(second, both_heads(values_p) / (1 + kEps)), 1e-12);
    // Segment 3: after the second (identical) store the rules differ in closed form.
    auto third = run(m, state, tokens(keys_p, values_p));
    auto expected = update == "delta" ? values_p * (1 + kEps / (1 + kEps)) / (2 + kEps) : values_p * 2.0 / (2 + kEps);
    EXPECT_LE(max_abs_diff(third, both_heads(expected)), 1e-12);
  }
  // What a memory of post-RoPE keys would return instead (rotations at absolute or in-segment positions):
  // far from the values, so the check above fails for such an implementation.
  for (int64_t query_start : {0, 4}) {
    auto k_rot = ops::apply_rope(keys.view({1, 1, 4, 4}), 0, 10000.0, RopeLayout::Half)[0][0];
    auto q_rot = ops::apply_rope(keys_p.view({1, 1, 4, 4}), query_start, 10000.0, RopeLayout::Half)[0][0];
    auto M = torch::matmul(sigma(k_rot).t(), values);
    auto z = sigma(k_rot).sum(0);
    auto read = torch::matmul(sigma(q_rot), M) / (torch::mv(sigma(q_rot), z) + kEps).unsqueeze(1);
    EXPECT_GT(max_abs_diff(read, values_p), 0.1) << "post-RoPE keys, queries from position " << query_start;
  }
}

TEST(InfiniMemory, NeedleInTheFirstSegmentReachesTheThirdSegment) {
  for (const std::string update : {"linear", "delta"}) {
    for (bool memory : {true, false}) {
      SCOPED_TRACE(update + (memory ? " memory on" : " memory off"));
      auto m = make_module("infini", {"infini_attention.segment_length=4", "infini_attention.memory_update=" + update,
                                      std::string("infini_attention.turn_on_memory=") + (memory ? "true" : "false")});
      spread_weights(*m.module);
      torch::manual_seed(14);
      // Gradient: d(outputs of segment 3) / d(inputs of segment 1), through one call and through three
      // stateful calls (back-propagation through the carried memory).
      auto x = torch::randn({1, 12, 32}).requires_grad_(true);
      AttentionContext plain;
      m->forward(x, plain).narrow(1, 8, 4).pow(2).sum().backward();
      const double whole_grad = x.grad().narrow(1, 0, 4).abs().max().item<double>();
      auto xs = x.detach().clone().requires_grad_(true);
      LayerState state = m->initial_state(1, {});
      auto streamed = forward_in_pieces(*m.module, xs, state, {4});
      streamed.narrow(1, 8, 4).pow(2).sum().backward();
      const double streamed_grad = xs.grad().narrow(1, 0, 4).abs().max().item<double>();
      // Value: change the needle token (position 1) and look at segment 3.
      torch::NoGradGuard guard;
      auto y = x.detach().clone();
      y[0][1].add_(3.0 * torch::randn({32}));
      AttentionContext c1, c2;
      const double change = max_abs_diff(m->forward(x.detach(), c1).narrow(1, 8, 4), m->forward(y, c2).narrow(1, 8, 4));
      if (memory) {
        EXPECT_GT(whole_grad, 1e-4);
        EXPECT_GT(streamed_grad, 1e-4);
        EXPECT_GT(change, 1e-4);
      } else {
        EXPECT_EQ(whole_grad, 0.0);
        EXPECT_EQ(streamed_grad, 0.0);
        EXPECT_LE(change, 1e-7);
      }
    }
  }
}

}  // namespace
}  // namespace memtx::test
