// The sharded optimizer (train/sharded_optimizer.hpp) and the overlapped gradient sum
// (train/overlapped_gradient_sum.hpp) in a world of one process, where every collective is the identity, so the
// bookkeeping is checked against plain LibTorch: the sharded AdamW steps the parameters exactly as
// torch::optim::AdamW does and its gathered state is AdamW's; a bucket's sum starts inside the backward pass
// as soon as its last gradient is accumulated, in bucket order; unused parameters end with zero gradients; a
// gradient accumulated twice in one armed pass is refused; mixed dtypes are refused by the sharding.
// The multi-rank behaviour is in ddp_training_test.cpp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dist/process_group.hpp"
#include "memtx/error.hpp"
#include "train/data_parallel.hpp"
#include "train/optimizer_state.hpp"
#include "train/overlapped_gradient_sum.hpp"
#include "train/sharded_optimizer.hpp"

namespace memtx::test {
namespace {

using train::ParamGroup;

std::vector<ParamGroup> two_groups(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  ParamGroup g1{"base", 0.01, 0.1, {}, {}}, g2{"no_decay", 0.02, 0.0, {}, {}};
  for (size_t i = 0; i < a.size(); ++i) g1.names.push_back("a" + std::to_string(i)), g1.params.push_back(a[i]);
  for (size_t i = 0; i < b.size(); ++i) g2.names.push_back("b" + std::to_string(i)), g2.params.push_back(b[i]);
  return {g1, g2};
}

std::vector<torch::Tensor> leaves(const std::vector<std::vector<int64_t>>& shapes, uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<torch::Tensor> out;
  for (const auto& s : shapes) out.push_back(torch::randn(s).requires_grad_());
  return out;
}

TEST(ShardedOptimizer, WorldOfOneStepsExactlyAsAdamW) {
  train::DataParallel dp{dist::ProcessGroup(dist::World{})};
  const std::vector<std::vector<int64_t>> shapes_a = {{3, 5}, {7}}, shapes_b = {{4, 2}};
  auto a = leaves(shapes_a, 1), b = leaves(shapes_b, 2);
  auto a2 = leaves(shapes_a, 1), b2 = leaves(shapes_b, 2);
  const auto groups = two_groups(a, b), plain_groups = two_groups(a2, b2);
  train::OptimizerSettings settings;
  train::ShardedOptimizer sharded(groups, settings, dp);
  auto plain = train::make_optimizer(plain_groups, settings);
  for (int step = 0; step < 3; ++step) {
    torch::manual_seed(100 + step);
    std::vector<torch::Tensor> grads;
    for (const auto& p : a) grads.push_back(torch::randn(p.sizes()));
    for (const auto& p : b) grads.push_back(torch::randn(p.sizes()));
    sharded.zero_grad();
    plain->zero_grad();
    for (size_t i = 0; i < a.size(); ++i) a[i].mutable_grad() = grads[i].clone(), a2[i].mutable_grad() = grads[i].clone();
    for (size_t i = 0; i < b.size(); ++i)
      b[i].mutable_grad() = grads[a.size() + i].clone(), b2[i].mutable_grad() = grads[a.size() + i].clone();
    sharded.reduce_scatter_gradients();
    for (const auto& p : a) EXPECT_FALSE(p.grad().defined()) << "the whole gradients are freed";
    sharded.step();
    plain->step();
  }
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], a2[i])) << "a" << i;
  for (size_t i = 0; i < b.size(); ++i) EXPECT_TRUE(torch::equal(b[i], b2[i])) << "b" << i;
  // The gathered state is AdamW's, tensor for tensor.
  auto gathered = sharded.gather_full_optimizer();
  const auto mine = train::optimizer_state_tensors(*gathered, groups);
  const auto theirs = train::optimizer_state_tensors(*plain, plain_groups);
  ASSERT_EQ(mine.size(), theirs.size());
  for (size_t i = 0; i < mine.size(); ++i) {
    EXPECT_EQ(mine[i].first, theirs[i].first);
    EXPECT_TRUE(torch::equal(mine[i].second, theirs[i].second)) << mine[i].first;
  }
  EXPECT_EQ(sharded.state_bytes(), 2 * (15 + 7 + 8) * 4 + 3 * 8) << "exp_avg, exp_avg_sq and the step counts";
  // Loading it back into a fresh sharded optimizer gives the same state.
  train::ShardedOptimizer fresh(groups, settings, dp);
  fresh.load_full(*gathered);
  EXPECT_EQ(fresh.state_bytes(), sharded.state_bytes());
}

TEST(ShardedOptimizer, RefusesParametersOfTwoDtypes) {
  train::DataParallel dp{dist::ProcessGroup(dist::World{})};
  auto a = leaves({{2, 2}}, 1);
  std::vector<torch::Tensor> b = {torch::zeros({3}, torch::kFloat64).requires_grad_()};
  try {
    train::ShardedOptimizer sharded(two_groups(a, b), {}, dp);
    ADD_FAILURE() << "mixed dtypes accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Config);
    EXPECT_NE(std::string(e.what()).find("SHARD_GRAD_OP"), std::string::npos) << e.what();
  }
}

// y = sum(w3 * tanh(w2 * tanh(w1 * x))): backward accumulates w3 first, w1 last; w_unused takes no part.
struct Chain {
  torch::Tensor w1 = torch::full({64}, 0.5).requires_grad_(), w2 = torch::full({64}, 0.25).requires_grad_(),
                w3 = torch::full({64}, 2.0).requires_grad_(), unused = torch::ones({64}).requires_grad_();
  std::vector<std::pair<std::string, torch::Tensor>> params() const {
    return {{"w1", w1}, {"unused", unused}, {"w2", w2}, {"w3", w3}};
  }
  torch::Tensor loss(const torch::Tensor& x) const {
    return (w3 * torch::tanh(w2 * torch::tanh(w1 * x))).sum();
  }
};

TEST(OverlappedGradientSum, BucketsStartInsideTheBackwardPassInOrder) {
  dist::ProcessGroup group(dist::World{});
  Chain c;
  // 256 bytes per parameter, a cap of 256: one bucket each, planned w3, w2, unused, w1.
  train::OverlappedGradientSum sum(c.params(), group, 256);
  ASSERT_EQ(sum.buckets(), 4u);
  const auto x = torch::linspace(-1, 1, 64);
  // An unarmed pass (an earlier micro-batch) starts nothing.
  c.loss(x).backward();
  EXPECT_EQ(sum.started_in_backward(), 0);
  const torch::Tensor first = c.w1.grad().clone();
  sum.arm();
  c.loss(x).backward();
  // w3 and w2 are ready in the pass; "unused" never is, so w1's bucket, behind it, waits for finish().
  EXPECT_EQ(sum.started_in_backward(), 2);
  sum.finish();
  EXPECT_TRUE(torch::allclose(c.w1.grad(), 2 * first)) << "two passes accumulated; a world of one sums to itself";
  ASSERT_TRUE(c.unused.grad().defined());
  EXPECT_TRUE(torch::equal(c.unused.grad(), torch::zeros({64})));
  EXPECT_EQ(sum.started_in_backward_total(), 2);
}

TEST(OverlappedGradientSum, FinishWithoutArmingStartsEverything) {
  dist::ProcessGroup group(dist::World{});
  Chain c;
  train::OverlappedGradientSum sum(c.params(), group, 1 << 20);
  ASSERT_EQ(sum.buckets(), 1u);
  sum.finish();  // a rank without rows in the last micro-batch: no backward pass, zeros are summed
  for (const auto& [name, p] : c.params()) EXPECT_TRUE(torch::equal(p.grad(), torch::zeros({64}))) << name;
}

TEST(OverlappedGradientSum, GradientAccumulatedTwiceInOnePassIsRefused) {
  dist::ProcessGroup group(dist::World{});
  Chain c;
  train::OverlappedGradientSum sum(c.params(), group, 256);
  sum.arm();
  const auto x = torch::linspace(-1, 1, 64);
  c.loss(x).backward();
  c.loss(x).backward();  // a second pass before finish(): w3 accumulates again after its sum started
  try {
    sum.finish();
    ADD_FAILURE() << "a second accumulation was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Internal);
    EXPECT_NE(std::string(e.what()).find("'w3' was accumulated twice"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace memtx::test
