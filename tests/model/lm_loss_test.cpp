// tests/model/lm_loss_test.cpp: the masked next-token loss: targets are the inputs shifted by one, masked
// targets contribute nothing, the value equals a hand computation, and bad batches are refused.
#include <gtest/gtest.h>

#include "memtx/error.hpp"
#include "model/lm_loss.hpp"

namespace memtx::test {
namespace {

data::Batch two_rows() {
  data::Batch b;
  b.batch = 2;
  b.length = 3;
  b.tokens = {1, 2, 3, 4, /**/ 5, 6, 7, 8};
  b.mask = {1, 1, 0, 1, /**/ 0, 0, 0, 1};
  return b;
}

TEST(LmLoss, ShiftsTargetsAndTakesTheirMask) {
  const auto lm = to_lm_batch(two_rows(), torch::kCPU);
  EXPECT_TRUE(torch::equal(lm.inputs, torch::tensor({{1, 2, 3}, {5, 6, 7}}, torch::kLong)));
  EXPECT_TRUE(torch::equal(lm.targets, torch::tensor({{2, 3, 4}, {6, 7, 8}}, torch::kLong)));
  EXPECT_TRUE(torch::equal(lm.weights, torch::tensor({{1.f, 0.f, 1.f}, {0.f, 0.f, 1.f}})));
  EXPECT_EQ(lm.target_count, 3);
  EXPECT_EQ(lm.rows, 2);
}

TEST(LmLoss, SumOverUnmaskedTargetsEqualsTheHandComputation) {
  const auto lm = to_lm_batch(two_rows(), torch::kCPU);
  auto logits = torch::randn({2, 3, 10}, torch::dtype(torch::kFloat64));
  const double got = masked_lm_loss_sum(logits, lm.targets, lm.weights).item<double>();
  auto logp = logits.log_softmax(-1);
  const double expected = -(logp[0][0][2] + logp[0][2][4] + logp[1][2][8]).item<double>();
  EXPECT_NEAR(got, expected, 1e-6);

  // Changing the logits of a masked position changes nothing; of a counted one, changes the loss.
  auto masked_changed = logits.clone();
  masked_changed[1][0] += 5.0;
  EXPECT_NEAR(masked_lm_loss_sum(masked_changed, lm.targets, lm.weights).item<double>(), got, 1e-6);
  auto counted_changed = logits.clone();
  counted_changed[1][2][8] += 1.0;
  EXPECT_LT(masked_lm_loss_sum(counted_changed, lm.targets, lm.weights).item<double>(), got - 0.01);
}

TEST(LmLoss, RefusesMalformedBatches) {
  auto b = two_rows();
  b.tokens.pop_back();
  EXPECT_THROW(to_lm_batch(b, torch::kCPU), Error);
  EXPECT_THROW(to_lm_batch(data::Batch{}, torch::kCPU), Error);
  const auto lm = to_lm_batch(two_rows(), torch::kCPU);
  EXPECT_THROW(masked_lm_loss_sum(torch::zeros({2, 4, 10}), lm.targets, lm.weights), Error);
}

}  // namespace
}  // namespace memtx::test
