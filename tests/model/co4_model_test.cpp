// co4 inside the model: decoding a [causal, co4] model token by token with the cache gives the full forward's
// logits (the co4 layers carry their per-pass token sums and final keys/values).
#include "test_support.hpp"

namespace memtx::test {
namespace {

TEST(Co4Model, CachedDecodingThroughMixedModelEqualsFullForward) {
  Transformer model(tiny_config({"attention.attention_list=[causal, co4]", "model.num_layers=3",
                                 "attention.triadic_loops=2", "attention.mod_fn=tm3"}),
                    plugin_registry());
  model->eval();
  torch::NoGradGuard guard;
  auto tokens = torch::randint(0, 97, {2, 10}, torch::kLong);
  auto full = model->forward(tokens);
  auto state = model->initial_state(2);
  std::vector<torch::Tensor> pieces{model->forward(tokens.narrow(1, 0, 6), &state, /*use_cache=*/true)};
  for (int64_t t = 6; t < 10; ++t) pieces.push_back(model->forward(tokens.narrow(1, t, 1), &state, true));
  EXPECT_EQ(state.position, 10);
  EXPECT_LT(max_abs_diff(torch::cat(pieces, 1), full), 1e-4);
}

TEST(Co4Model, PublishedFormModelRefusesCachedDecoding) {
  Transformer model(tiny_config({"attention.attention_variant=co4", "attention.co4_causal=false"}), plugin_registry());
  auto state = model->initial_state(1);
  EXPECT_THROW(model->forward(torch::randint(0, 97, {1, 4}, torch::kLong), &state, /*use_cache=*/true), Error);
}

}  // namespace
}  // namespace memtx::test
