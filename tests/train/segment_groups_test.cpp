// Truncated back-propagation in groups of segments (train/segment_groups.hpp) against the whole-sequence
// backward with the same detach points: an infini model (float64, so the comparison is tight) and a mix with
// a recurrent ssm layer and chapter-routed memory (auxiliary losses weighted by each group's share), gradients
// and loss equal; a micro-batch that fits one group, and a model without detach_every, take the plain forward.
#include <gtest/gtest.h>

#include "model/lm_loss.hpp"
#include "train/segment_groups.hpp"
#include "trainer_support.hpp"

namespace memtx::test {
namespace {

struct Pass {
  double loss = 0;
  std::map<std::string, torch::Tensor> grads;
};

std::map<std::string, torch::Tensor> gradients(TransformerImpl& model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : model.named_parameters())
    if (p.value().grad().defined()) out[p.key()] = p.value().grad().clone();
  return out;
}

// loss = sum of token losses + sum of auxiliary losses, by the whole forward or in groups.
Pass run(TransformerImpl& model, const torch::Tensor& inputs, const torch::Tensor& targets, bool grouped) {
  model.zero_grad();
  const auto weights = torch::ones(targets.sizes(), torch::kFloat32);
  Pass pass;
  if (!grouped) {
    auto loss = masked_lm_loss_sum(model.forward(inputs), targets, weights);
    if (model.auxiliary_loss().defined()) loss = loss + model.auxiliary_loss();
    loss.backward();
    pass.loss = loss.item<double>();
  } else {
    train::SegmentGroups groups(model, inputs);
    for (size_t g = 0; g < groups.size(); ++g) {
      auto loss = masked_lm_loss_sum(groups.forward(g), groups.slice(targets, g), groups.slice(weights, g));
      if (model.auxiliary_loss().defined()) loss = loss + model.auxiliary_loss() * groups.token_share(g);
      loss.backward();
      pass.loss += loss.item<double>();
      groups.cut();
    }
  }
  pass.grads = gradients(model);
  return pass;
}

void expect_grouped_equals_whole(const std::vector<std::string>& overrides, int64_t length, size_t expected_groups,
                                 double tolerance, bool float64 = false) {
  Transformer model(tiny_config(overrides), plugin_registry());
  if (float64) model->to(torch::kFloat64);
  model->train();
  torch::manual_seed(5);
  const auto tokens = torch::randint(0, 97, {2, length + 1}, torch::kLong);
  const auto inputs = tokens.narrow(1, 0, length), targets = tokens.narrow(1, 1, length);
  EXPECT_EQ(train::SegmentGroups(*model, inputs).size(), expected_groups);
  const Pass whole = run(*model, inputs, targets, false), grouped = run(*model, inputs, targets, true);
  // masked_lm_loss_sum is a float32 sum, whatever the model's dtype: rounding of the group sums.
  EXPECT_NEAR(grouped.loss, whole.loss, std::max(tolerance, 1e-6) * std::abs(whole.loss));
  ASSERT_EQ(grouped.grads.size(), whole.grads.size());
  ASSERT_FALSE(whole.grads.empty());
  for (const auto& [name, g] : whole.grads) {
    ASSERT_TRUE(grouped.grads.count(name)) << name;
    const double scale = std::max(1.0, g.abs().max().item<double>());
    EXPECT_LE(max_abs_diff(grouped.grads.at(name), g), tolerance * scale) << name;
  }
}

const std::vector<std::string> kInfini = {"attention.attention_variant=infini", "infini_attention.segment_length=8",
                                          "infini_attention.detach_every=2", "model.max_seq_len=256"};

TEST(SegmentGroups, GroupsOfDetachEverySegmentsEqualTheWholeBackwardInfini) {
  expect_grouped_equals_whole(kInfini, 56, 4, 1e-10, true);  // 7 segments: groups of 16, 16, 16, 8 tokens
  expect_grouped_equals_whole(kInfini, 56, 4, 1e-5);
}

TEST(SegmentGroups, MixedRecurrentLayersAndRouterLossesEqualTheWholeBackward) {
  auto overrides = kInfini;
  for (const char* o : {"attention.attention_list=[infini, ssm]", "memory.vanilla_mode=false",
                        "memory.num_memory_tokens=16", "memory.use_chapters=true", "memory.num_chapters=4",
                        "memory.top_k_chapters=2", "memory.routing_strategy_train=rolling",
                        "memory.routing_window_size=4", "memory.use_load_balance_loss=true",
                        "memory.load_balance_coefficient=0.5", "memory.wo_init_zero=false"})
    overrides.push_back(o);
  expect_grouped_equals_whole(overrides, 40, 3, 1e-10, true);
}

TEST(SegmentGroups, OneGroupWhenNothingIsCut) {
  expect_grouped_equals_whole(kInfini, 16, 1, 0);  // exactly one group of 2 segments: the plain forward
  auto whole = kInfini;
  whole.back() = "infini_attention.detach_every=0";
  whole.push_back("model.max_seq_len=256");
  expect_grouped_equals_whole(whole, 56, 1, 0);  // detach_every 0: full back-propagation
  expect_grouped_equals_whole({}, 24, 1, 0);     // no segments at all
}

}  // namespace
}  // namespace memtx::test
