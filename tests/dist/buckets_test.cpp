// The bucket plan of the bucketed collectives: grouping by dtype and device in list order, the size cap, a
// tensor larger than the cap alone, refusals naming the tensor, and the flat copies in and out of a bucket.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dist/buckets.hpp"
#include "memtx/error.hpp"

namespace memtx::test {
namespace {

using dist::Bucket;

std::vector<std::vector<size_t>> members(const std::vector<Bucket>& plan) {
  std::vector<std::vector<size_t>> out;
  for (const auto& b : plan) out.push_back(b.members);
  return out;
}

TEST(Buckets, GroupsByDtypeInListOrder) {
  const std::vector<torch::Tensor> list = {torch::zeros({10}), torch::zeros({5}, torch::kDouble), torch::zeros({3}),
                                           torch::zeros({2, 2}, torch::kLong), torch::zeros({1}, torch::kDouble)};
  const auto plan = dist::plan_buckets(list, 1 << 20);
  EXPECT_EQ(members(plan), (std::vector<std::vector<size_t>>{{0, 2}, {1, 4}, {3}}));
  EXPECT_EQ(plan[0].numel, 13);
  EXPECT_EQ(plan[1].numel, 6);
  EXPECT_EQ(plan[2].numel, 4);
}

TEST(Buckets, CapSplitsAndABigTensorIsAlone) {
  std::vector<torch::Tensor> list;
  for (int i = 0; i < 5; ++i) list.push_back(torch::zeros({4}));  // 16 bytes each
  EXPECT_EQ(members(dist::plan_buckets(list, 40)), (std::vector<std::vector<size_t>>{{0, 1}, {2, 3}, {4}}));
  EXPECT_EQ(members(dist::plan_buckets(list, 16)), (std::vector<std::vector<size_t>>{{0}, {1}, {2}, {3}, {4}}));
  list.insert(list.begin() + 1, torch::zeros({100}));  // 400 bytes > cap
  EXPECT_EQ(members(dist::plan_buckets(list, 40)),
            (std::vector<std::vector<size_t>>{{0}, {1}, {2, 3}, {4, 5}}));
  EXPECT_TRUE(dist::plan_buckets({}, 40).empty());
}

TEST(Buckets, RefusalsNameTheTensor) {
  auto message = [](const std::vector<torch::Tensor>& list, int64_t cap) {
    try {
      dist::plan_buckets(list, cap);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({torch::zeros({2}), torch::Tensor()}, 100).find("tensor 1 "), std::string::npos);
  const auto sparse = torch::zeros({3, 3}).to_sparse();
  EXPECT_NE(message({sparse}, 100).find("tensor 0 "), std::string::npos);
  EXPECT_NE(message({torch::zeros({2})}, 0).find("bucket size"), std::string::npos);
  EXPECT_NE(message({torch::zeros({2}), torch::ones({1}).expand({5})}, 100).find("tensor 1 "), std::string::npos);
  // Views with gaps or a transposed layout are fine: every element has memory of its own.
  const auto strided = torch::zeros({4, 4});
  EXPECT_EQ(dist::plan_buckets({strided.t(), strided.slice(1, 0, 4, 2)}, 100).size(), 1u);
}

TEST(Buckets, FlattenAndUnflattenRoundTrip) {
  torch::Tensor base = torch::arange(12, torch::kFloat).reshape({3, 4});
  std::vector<torch::Tensor> list = {torch::arange(3, torch::kFloat), base.t(), torch::full({}, 7.0f),
                                     torch::empty({0})};
  const auto plan = dist::plan_buckets(list, 1 << 20);
  ASSERT_EQ(plan.size(), 1u);
  torch::Tensor flat = dist::flatten_bucket(list, plan[0]);
  ASSERT_EQ(flat.numel(), 3 + 12 + 1);
  EXPECT_TRUE(torch::equal(flat.narrow(0, 3, 12), base.t().reshape({-1})));
  EXPECT_EQ(flat[15].item<float>(), 7.0f);
  flat.mul_(2);
  dist::unflatten_bucket(flat, list, plan[0]);
  EXPECT_TRUE(torch::equal(list[0], torch::arange(3, torch::kFloat) * 2));
  EXPECT_TRUE(torch::equal(base, torch::arange(12, torch::kFloat).reshape({3, 4}) * 2));
  EXPECT_EQ(list[2].item<float>(), 14.0f);
}

TEST(Buckets, ALoneContiguousTensorIsUsedInPlace) {
  torch::Tensor t = torch::ones({2, 3}, torch::requires_grad());
  std::vector<torch::Tensor> list = {t};
  const auto plan = dist::plan_buckets(list, 1 << 20);
  torch::Tensor flat = dist::flatten_bucket(list, plan[0]);
  EXPECT_EQ(flat.data_ptr(), t.data_ptr());
  {
    torch::NoGradGuard no_grad;
    flat.add_(1);
  }
  dist::unflatten_bucket(flat, list, plan[0]);
  EXPECT_TRUE(torch::equal(t.detach(), torch::full({2, 3}, 2.0f)));
}

}  // namespace
}  // namespace memtx::test
