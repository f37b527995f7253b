// The segment engine: a model with an infini layer runs in segments carrying state; gradients flow through
// the carried state across segments unless infini_attention.detach_every cuts them; softmax layers see only
// their own segment; the layers' auxiliary and router losses of a forward cover all of its segments.
#include "test_support.hpp"

namespace memtx::test {
namespace {

Config segmented_config(const std::vector<std::string>& extra = {}) {
  // Untied embeddings: the embedding gradient then comes from the inputs only (not from the output head).
  std::vector<std::string> o = {"attention.attention_list=[infini, causal]", "infini_attention.segment_length=4",
                                "model.tie_embeddings=false"};
  o.insert(o.end(), extra.begin(), extra.end());
  return tiny_config(o);
}

// The gradient of the last position's logits with respect to the embedding of token 0 (segment 1).
double gradient_from_first_segment(Transformer& model, int64_t length) {
  // Distinct ids: the embedding row of token 0 is used at position 0 only.
  auto tokens = torch::arange(10, 10 + length, torch::kLong).unsqueeze(0);
  auto embedded = model->embed_tokens->weight;
  model->zero_grad();
  auto logits = model->forward(tokens);
  logits.select(1, length - 1).sum().backward();
  return embedded.grad()[tokens[0][0].item<int64_t>()].abs().sum().item<double>();
}

TEST(SegmentEngine, ModelAsksForTheInfiniSegmentLength) {
  Transformer model(segmented_config(), plugin_registry());
  EXPECT_EQ(model->segment_length(), 4);
  Transformer plain(tiny_config({"attention.attention_list=[causal, ssm]"}), plugin_registry());
  EXPECT_EQ(plain->segment_length(), 0);
}

TEST(SegmentEngine, GradientsCrossSegmentsThroughTheStateUnlessDetached) {
  // Token 0 sits in segment 1; the last position (11) is in segment 3, where only memory connects them.
  Transformer through(segmented_config(), plugin_registry());
  EXPECT_GT(gradient_from_first_segment(through, 12), 1e-8);
  Transformer cut(segmented_config({"infini_attention.detach_every=1"}), plugin_registry());
  EXPECT_EQ(gradient_from_first_segment(cut, 12), 0.0);
}

TEST(SegmentEngine, SoftmaxLayersAttendWithinTheirSegmentOnly) {
  // With memory off, nothing crosses a segment boundary: changing segment 1 leaves segment 2's logits alone.
  Transformer model(segmented_config({"infini_attention.turn_on_memory=false"}), plugin_registry());
  model->eval();
  torch::NoGradGuard no_grad;
  auto a = torch::randint(0, 97, {1, 8}, torch::kLong);
  auto b = a.clone();
  b[0][1] = (a[0][1].item<int64_t>() + 1) % 97;
  auto la = model->forward(a), lb = model->forward(b);
  EXPECT_GT(max_abs_diff(la.narrow(1, 1, 3), lb.narrow(1, 1, 3)), 1e-6);
  EXPECT_EQ(max_abs_diff(la.narrow(1, 4, 4), lb.narrow(1, 4, 4)), 0.0);
}

TEST(SegmentEngine, BatchRowsKeepTheirOwnState) {
  Transformer model(segmented_config(), plugin_registry());
  model->eval();
  torch::NoGradGuard no_grad;
  auto tokens = torch::randint(0, 97, {2, 12}, torch::kLong);
  auto both = model->forward(tokens);
  auto first = model->forward(tokens.narrow(0, 0, 1));
  auto second = model->forward(tokens.narrow(0, 1, 1));
  EXPECT_LE(max_abs_diff(both.narrow(0, 0, 1), first), 1e-5);
  EXPECT_LE(max_abs_diff(both.narrow(0, 1, 1), second), 1e-5);
}

// A forward over several segments reports the token-weighted mean of each segment's losses: the same values as
// feeding the segments one call at a time and weighting each call's losses by its length.
TEST(SegmentEngine, RouterAndAuxiliaryLossesCoverEverySegment) {
  Transformer model(segmented_config({"memory.vanilla_mode=false", "memory.num_memory_tokens=16",
                                      "memory.use_chapters=true", "memory.num_chapters=4", "memory.top_k_chapters=2",
                                      "memory.routing_strategy_train=token", "memory.routing_strategy_inference=token",
                                      "memory.use_load_balance_loss=true", "memory.use_z_loss=true",
                                      "memory.wo_init_zero=false"}),
                    plugin_registry());
  model->to(torch::kFloat64);
  model->train();
  auto tokens = torch::randint(0, 97, {2, 10}, torch::kLong);
  model->forward(tokens);
  const auto whole = model->router_losses();
  const torch::Tensor whole_aux = model->auxiliary_loss();
  ASSERT_FALSE(whole.empty());
  ASSERT_TRUE(whole_aux.defined());

  std::map<std::string, double> expected;
  double expected_aux = 0;
  ModelState state = model->initial_state(2);
  for (const auto& [offset, length] : std::vector<std::pair<int64_t, int64_t>>{{0, 4}, {4, 4}, {8, 2}}) {
    model->forward(tokens.narrow(1, offset, length), &state);
    for (const auto& [name, value] : model->router_losses()) expected[name] += value.item<double>() * length / 10.0;
    expected_aux += model->auxiliary_loss().item<double>() * length / 10.0;
  }
  ASSERT_EQ(whole.size(), expected.size());
  for (const auto& [name, value] : whole) {
    EXPECT_NEAR(value.item<double>(), expected.at(name), 1e-10) << name;
  }
  EXPECT_NEAR(whole_aux.item<double>(), expected_aux, 1e-10);
  // Not the last segment's value alone (what a model reading its blocks after the forward would report).
  const double last_only = model->router_losses().begin()->second.item<double>();
  EXPECT_GT(std::abs(whole.begin()->second.item<double>() - last_only), 1e-6);
}

}  // namespace
}  // namespace memtx::test
