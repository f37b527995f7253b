// Global-norm clipping (returned norm, scaling, 0 = measure only) and the non-finite gradient check.
#include <cmath>
#include <limits>

#include "train/grad_utils.hpp"
#include "train_support.hpp"

namespace memtx::test {
namespace {

using Named = std::vector<std::pair<std::string, torch::Tensor>>;

Named params_with_grads(std::vector<std::vector<float>> grads) {
  Named out;
  for (size_t i = 0; i < grads.size(); ++i) {
    auto p = torch::zeros({static_cast<int64_t>(grads[i].size())}, torch::requires_grad());
    p.mutable_grad() = torch::tensor(grads[i]);
    out.emplace_back("p" + std::to_string(i), p);
  }
  return out;
}

TEST(ClipGradNorm, ScalesToMaxNormAndReturnsTheNormBefore) {
  auto params = params_with_grads({{3.f, 0.f}, {0.f, 4.f}});  // global norm 5
  params.emplace_back("no_grad", torch::zeros({2}, torch::requires_grad()));
  const double norm = train::clip_grad_norm(params, 1.0);
  EXPECT_NEAR(norm, 5.0, 1e-12);
  const double coef = 1.0 / (5.0 + 1e-6);
  EXPECT_NEAR(params[0].second.grad()[0].item<double>(), 3.0 * coef, 1e-7);
  EXPECT_NEAR(params[1].second.grad()[1].item<double>(), 4.0 * coef, 1e-7);
  EXPECT_NEAR(train::clip_grad_norm(params, 0.0), 1.0, 1e-6);  // the clipped norm
}

TEST(ClipGradNorm, ZeroOrLargeMaxNormOnlyMeasures) {
  for (double max_norm : {0.0, 10.0}) {
    auto params = params_with_grads({{3.f, 0.f}, {0.f, 4.f}});
    EXPECT_NEAR(train::clip_grad_norm(params, max_norm), 5.0, 1e-12);
    EXPECT_FLOAT_EQ(params[0].second.grad()[0].item<float>(), 3.f);
    EXPECT_FLOAT_EQ(params[1].second.grad()[1].item<float>(), 4.f);
  }
  EXPECT_EQ(train::clip_grad_norm({}, 1.0), 0.0);
  EXPECT_THROW(train::clip_grad_norm({}, -1.0), Error);
}

TEST(ClipGradNorm, NonFiniteNormLeavesGradientsAlone) {
  auto params = params_with_grads({{3.f, 0.f}, {std::numeric_limits<float>::infinity(), 4.f}});
  EXPECT_FALSE(std::isfinite(train::clip_grad_norm(params, 1.0)));
  EXPECT_FLOAT_EQ(params[0].second.grad()[0].item<float>(), 3.f);
}

TEST(NonFiniteGrad, NamesTheFirstBadParameter) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(train::first_nonfinite_grad(params_with_grads({{1.f}, {2.f, 3.f}})), std::nullopt);
  EXPECT_EQ(train::first_nonfinite_grad(params_with_grads({{1.f}, {2.f, nan}, {inf}})), std::optional<std::string>("p1"));
  EXPECT_EQ(train::first_nonfinite_grad(params_with_grads({{1.f}, {2.f}, {-inf}})), std::optional<std::string>("p2"));
  Named none = {{"x", torch::zeros({2}, torch::requires_grad())}};
  EXPECT_EQ(train::first_nonfinite_grad(none), std::nullopt);
}

TEST(NonFiniteGrad, OnAModelAfterBackward) {
  auto model = tiny_model();
  lm_loss(model, fixed_batch(0)).backward();
  Named named;
  for (const auto& item : model->named_parameters()) named.emplace_back(item.key(), item.value());
  EXPECT_EQ(train::first_nonfinite_grad(named), std::nullopt);
  model->named_parameters()["layers.1.mlp.up_proj.weight"].mutable_grad()[0][0] = std::nanf("");
  EXPECT_EQ(train::first_nonfinite_grad(named), std::optional<std::string>("layers.1.mlp.up_proj.weight"));
}

}  // namespace
}  // namespace memtx::test
