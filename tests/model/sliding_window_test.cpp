// tests/model/sliding_window_test.cpp: sliding-window attention (attention.sliding_window, causal plugin): a query
// sees itself and the window - 1 keys before it, in the fused and explicit paths alike, with and without a key/value
// cache, only on the layers attention.sliding_window_layers names.
#include "common/error_of.hpp"
#include "test_support.hpp"

namespace memtx::test {
namespace {

torch::Tensor logits(Transformer& model, const torch::Tensor& tokens) {
  torch::NoGradGuard no_grad;
  return model->forward(tokens);
}

TEST(SlidingWindow, AOneLayerModelIgnoresTokensBeforeTheWindow) {
  torch::manual_seed(4);
  Transformer model(tiny_config({"model.num_layers=1", "attention.sliding_window=4"}), plugin_registry());
  model->eval();
  auto tokens = torch::randint(0, 97, {1, 12});
  const auto before = logits(model, tokens);
  auto changed = tokens.clone();
  changed[0][7] = (changed[0][7].item<int64_t>() + 1) % 97;  // position 7: outside the window of 11, inside 10's
  const auto after = logits(model, changed);
  EXPECT_LE(max_abs_diff(before.select(1, 11), after.select(1, 11)), 1e-6);  // 11 sees 8..11
  EXPECT_GT(max_abs_diff(before.select(1, 10), after.select(1, 10)), 1e-4);  // 10 sees 7..10
}

TEST(SlidingWindow, FusedAndExplicitPathsAndCachedDecodingAgree) {
  torch::manual_seed(5);
  Transformer fused(tiny_config({"attention.sliding_window=3", "model.use_flash_attention=true"}), plugin_registry());
  Transformer explicit_path(tiny_config({"attention.sliding_window=3", "attention.disable_flash_attention=true"}),
                            plugin_registry());
  torch::NoGradGuard no_grad;
  for (auto& p : explicit_path->named_parameters()) p.value().copy_(fused->named_parameters()[p.key()]);
  fused->eval();
  explicit_path->eval();
  const auto tokens = torch::randint(0, 97, {2, 10});
  const auto whole = fused->forward(tokens);
  EXPECT_LE(max_abs_diff(whole, explicit_path->forward(tokens)), 1e-5);
  // Token by token with the cache: the window is counted from each new query.
  ModelState state = fused->initial_state(2);
  std::vector<torch::Tensor> steps;
  for (int64_t t = 0; t < 10; ++t) steps.push_back(fused->forward(tokens.narrow(1, t, 1), &state, true));
  EXPECT_LE(max_abs_diff(torch::cat(steps, 1), whole), 1e-5);
  for (const auto& layer : state.layers) {  // the cache holds the window - 1 keys a next query can see, no more
    EXPECT_EQ(layer.at("k").size(2), 2);
    EXPECT_EQ(layer.at("v").size(2), 2);
  }
}

// Pieces longer and shorter than the window, fed through the cache, give the whole sequence's outputs, while the
// cache never grows past the window; a layer without a window keeps every key.
TEST(SlidingWindow, ChunkedFeedingKeepsOnlyTheWindowAndMatchesTheWholeSequence) {
  torch::manual_seed(7);
  Transformer model(tiny_config({"attention.sliding_window=4", "attention.sliding_window_layers=[1]"}),
                    plugin_registry());
  model->eval();
  torch::NoGradGuard no_grad;
  const auto tokens = torch::randint(0, 97, {2, 40});
  const auto whole = model->forward(tokens);
  ModelState state = model->initial_state(2);
  std::vector<torch::Tensor> pieces;
  int64_t at = 0;
  for (int64_t length : {5, 1, 9, 2, 3, 1, 19}) {
    pieces.push_back(model->forward(tokens.narrow(1, at, length), &state, true));
    at += length;
    EXPECT_EQ(state.layers[1].at("k").size(2), std::min<int64_t>(at, 3));
    EXPECT_EQ(state.layers[0].at("k").size(2), at);  // no window on layer 0
  }
  EXPECT_LE(max_abs_diff(torch::cat(pieces, 1), whole), 1e-5);
}

TEST(SlidingWindow, OnlyTheNamedLayersUseTheWindowAndBadLayersAreRefused) {
  torch::manual_seed(6);
  Transformer all(tiny_config({"attention.sliding_window=2"}), plugin_registry());
  Transformer second(tiny_config({"attention.sliding_window=2", "attention.sliding_window_layers=[1]"}),
                     plugin_registry());
  Transformer none(tiny_config(), plugin_registry());
  torch::NoGradGuard no_grad;
  for (auto* m : {&second, &none})
    for (auto& p : (*m)->named_parameters()) p.value().copy_(all->named_parameters()[p.key()]);
  const auto tokens = torch::randint(0, 97, {1, 9});
  const auto a = logits(all, tokens), s = logits(second, tokens), n = logits(none, tokens);
  EXPECT_GT(max_abs_diff(a, s), 1e-4);
  EXPECT_GT(max_abs_diff(s, n), 1e-4);
  std::string m = memtx_test::error_of([] {
    Transformer t(tiny_config({"attention.sliding_window=2", "attention.sliding_window_layers=[2]"}), plugin_registry());
  });
  EXPECT_NE(m.find("names layer 2"), std::string::npos) << m;
  m = memtx_test::error_of([] { Transformer t(tiny_config({"attention.sliding_window_layers=[0]"}), plugin_registry()); });
  EXPECT_NE(m.find("attention.sliding_window is null"), std::string::npos) << m;
}

}  // namespace
}  // namespace memtx::test
