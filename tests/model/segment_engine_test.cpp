// The segment engine: a model with an infini layer runs in segments carrying state; gradients flow through
// the carried state across segments unless infini_attention.detach_every cuts them; softmax layers see only
// their own segment.
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

}  // namespace
}  // namespace memtx::test
