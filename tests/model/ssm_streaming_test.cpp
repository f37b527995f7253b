// The ssm mixer as a recurrent layer: feeding a sequence in pieces equals feeding it whole (mixer and whole
// model, both scans), causality, initial/constant state sizes, and bad state or input rejected by name.
#include "ssm_support.hpp"

namespace memtx::test {
namespace {

class SsmStreaming : public ::testing::TestWithParam<std::string> {};

TEST_P(SsmStreaming, PiecesOfAnySizeEqualTheWhole) {
  auto m = make_ssm_mixer({"attention.ssm_scan=" + GetParam(), "attention.ssm_conv_kernel_size=4"});
  spread_ssm_parameters(*m.module);
  torch::NoGradGuard guard;
  torch::manual_seed(1);
  auto x = torch::randn({2, 16, 32});
  AttentionContext plain;
  auto whole = m->forward(x, plain);

  LayerState whole_state = m->initial_state(2, torch::TensorOptions());
  AttentionContext whole_ctx;
  whole_ctx.state = &whole_state;
  auto whole_with_state = m->forward(x, whole_ctx);
  EXPECT_LE(max_abs_diff(whole_with_state, whole), 1e-6);

  LayerState state = m->initial_state(2, torch::TensorOptions());
  std::vector<torch::Tensor> outs;
  int64_t start = 0;
  for (int64_t len : {1, 3, 5, 7}) {
    AttentionContext ctx;
    ctx.state = &state;
    outs.push_back(m->forward(x.narrow(1, start, len), ctx));
    start += len;
  }
  ASSERT_EQ(start, 16);
  const double err = scaled_diff(torch::cat(outs, 1), whole);
  std::cout << "[ssm streaming] " << GetParam() << " pieces 1+3+5+7 vs whole: " << err << "\n";
  EXPECT_LE(err, 1e-5);
  EXPECT_LE(scaled_diff(state["h"], whole_state["h"]), 1e-5);
  EXPECT_LE(max_abs_diff(state["conv"], whole_state["conv"]), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Scans, SsmStreaming, ::testing::Values("sequential", "chunked"));

TEST(SsmStreamingModel, WholeModelInPiecesEqualsWhole) {
  Config c = tiny_config({"attention.attention_variant=ssm", "model.use_mlp=false", "model.use_rope=false"});
  Transformer model(c, plugin_registry());
  spread_ssm_parameters(*model->blocks[0]->attn);
  torch::NoGradGuard guard;
  torch::manual_seed(2);
  auto tokens = torch::randint(0, 97, {2, 16}, torch::kLong);
  auto whole = model->forward(tokens);
  ModelState state = model->initial_state(2);
  std::vector<torch::Tensor> outs;
  int64_t start = 0;
  for (int64_t len : {1, 3, 5, 7}) {
    outs.push_back(model->forward(tokens.narrow(1, start, len), &state));
    start += len;
  }
  EXPECT_EQ(state.position, 16);
  EXPECT_LE(scaled_diff(torch::cat(outs, 1), whole), 1e-5);
}

TEST(SsmCausality, LaterInputsDoNotChangeEarlierOutputs) {
  for (const char* scan : {"sequential", "chunked"}) {
    auto m = make_ssm_mixer({std::string("attention.ssm_scan=") + scan});
    spread_ssm_parameters(*m.module);
    torch::NoGradGuard guard;
    torch::manual_seed(3);
    auto x = torch::randn({2, 40, 32});
    for (int64_t t : {0, 9, 39}) {
      auto y = x.clone();
      y.narrow(1, t, 40 - t).add_(torch::randn({2, 40 - t, 32}));
      AttentionContext c1, c2;
      auto a = m->forward(x, c1), b = m->forward(y, c2);
      if (t > 0) {
        EXPECT_LE(max_abs_diff(a.narrow(1, 0, t), b.narrow(1, 0, t)), 1e-6) << scan << " t=" << t;
      }
      EXPECT_GT(max_abs_diff(a.narrow(1, t, 40 - t), b.narrow(1, t, 40 - t)), 1e-3) << scan << " t=" << t;
    }
  }
}

TEST(SsmState, InitialStateShapesAndZeros) {
  auto m = make_ssm_mixer({"attention.ssm_mamba_expand=3", "attention.ssm_d_state=5", "attention.ssm_conv_kernel_size=4"});
  EXPECT_TRUE(m->is_recurrent());
  auto s = m->initial_state(3, torch::TensorOptions().dtype(torch::kFloat64));
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s["conv"].sizes(), (std::vector<int64_t>{3, 96, 3}));
  EXPECT_EQ(s["conv"].scalar_type(), torch::kFloat64);  // the model's dtype
  EXPECT_EQ(s["h"].sizes(), (std::vector<int64_t>{3, 96, 5}));
  EXPECT_EQ(s["h"].scalar_type(), torch::kFloat32);     // the scan's dtype, whatever the model's
  EXPECT_EQ(s["conv"].abs().sum().item<double>(), 0.0);
  EXPECT_EQ(s["h"].abs().sum().item<double>(), 0.0);
}

TEST(SsmState, SizeIsConstantHoweverLongTheStream) {
  auto m = make_ssm_mixer();
  torch::NoGradGuard guard;
  LayerState state = m->initial_state(1, torch::TensorOptions());
  const auto conv_sizes = state["conv"].sizes().vec(), h_sizes = state["h"].sizes().vec();
  for (int step = 0; step < 200; ++step) {
    AttentionContext ctx;
    ctx.state = &state;
    m->forward(torch::randn({1, 1 + step % 13, 32}), ctx);
    ASSERT_EQ(state.size(), 2u);
    ASSERT_EQ(state["conv"].sizes().vec(), conv_sizes);
    ASSERT_EQ(state["h"].sizes().vec(), h_sizes);
    // The stored tensors own just their elements (no view into a growing buffer).
    ASSERT_EQ(state["conv"].storage().nbytes(), state["conv"].numel() * state["conv"].element_size());
    ASSERT_EQ(state["h"].storage().nbytes(), state["h"].numel() * state["h"].element_size());
  }
  EXPECT_TRUE(torch::isfinite(state["h"]).all().item<bool>());
}

TEST(SsmState, WrongStateShapeIsAnErrorNamingIt) {
  auto m = make_ssm_mixer();
  LayerState state = m->initial_state(2, torch::TensorOptions());
  state["h"] = torch::zeros({2, 64, 3});
  AttentionContext ctx;
  ctx.state = &state;
  try {
    m->forward(torch::randn({2, 4, 32}), ctx);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("'h'"), std::string::npos) << e.what();
  }
}

TEST(SsmState, WrongInputWidthIsAnError) {
  auto m = make_ssm_mixer();
  AttentionContext ctx;
  try {
    m->forward(torch::randn({2, 4, 31}), ctx);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("32"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace memtx::test
