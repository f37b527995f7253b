// Tests of the repetition penalty and min-p filters on hand-made logits (closed form), their order relative to
// temperature, top-k and top-p, the checks of their float_values, and the seen-token set they use.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "infer/sampling.hpp"
#include "memtx/error.hpp"

namespace memtx::test {
namespace {

using infer::SamplingOptions;

constexpr float kInfF = std::numeric_limits<float>::infinity();

std::vector<float> float_values(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

SamplingOptions with_min_p(double temperature, double min_p) {
  SamplingOptions o;
  o.temperature = temperature;
  o.min_p = min_p;
  return o;
}

// Logits whose softmax is exactly probs (log of probabilities that sum to 1).
torch::Tensor log_probs_f32(const std::vector<double>& probs) {
  return torch::tensor(probs, torch::kFloat64).log().to(torch::kFloat32);
}

TEST(RepetitionPenalty, DividesPositiveAndMultipliesNegativeLogitsOfSeenIdsOnly) {
  const torch::Tensor z = torch::tensor({2.0f, -1.0f, 3.0f, 0.5f, -4.0f, 0.0f});
  const auto out = float_values(infer::penalize_repetition(z, {0, 1, 5}, 2.0));
  EXPECT_EQ(out, (std::vector<float>{1.0f, -2.0f, 3.0f, 0.5f, -4.0f, 0.0f}));
  // A penalty below 1 favours seen ids the other way round; 1 changes nothing; ids outside the row are ignored.
  EXPECT_EQ(float_values(infer::penalize_repetition(z, {0, 1}, 0.5)),
            (std::vector<float>{4.0f, -0.5f, 3.0f, 0.5f, -4.0f, 0.0f}));
  EXPECT_EQ(float_values(infer::penalize_repetition(z, {0, 1}, 1.0)), float_values(z));
  EXPECT_EQ(float_values(infer::penalize_repetition(z, {-1, 6, 100}, 2.0)), float_values(z));
  // The input is not changed in place.
  EXPECT_EQ(float_values(z), (std::vector<float>{2.0f, -1.0f, 3.0f, 0.5f, -4.0f, 0.0f}));
}

TEST(RepetitionPenalty, AppliesToGreedyChoice) {
  at::Generator gen = at::detail::createCPUGenerator(0);
  const torch::Tensor z = torch::tensor({3.0f, 2.0f, -1.0f});
  SamplingOptions o;
  o.temperature = 0;
  o.repetition_penalty = 2.0;
  infer::SeenTokens seen(3);
  EXPECT_EQ(infer::sample_token(z, o, gen, &seen), 0);  // nothing seen yet
  seen.add(0);
  EXPECT_EQ(infer::sample_token(z, o, gen, &seen), 1);  // 3 / 2 = 1.5 < 2
  EXPECT_EQ(infer::sample_token(z, o, gen), 0);         // no seen set: no penalty
}

TEST(MinP, DropsExactlyTheTokensBelowMinPTimesTheTopProbability) {
  const torch::Tensor z = log_probs_f32({0.5, 0.3, 0.15, 0.05});
  // min_p 0.4: threshold 0.2 keeps 0.5 and 0.3.
  auto out = float_values(infer::filtered_logits(z, with_min_p(1.0, 0.4)));
  EXPECT_TRUE(std::isfinite(out[0]) && std::isfinite(out[1]));
  EXPECT_EQ(out[2], -kInfF);
  EXPECT_EQ(out[3], -kInfF);
  // min_p 0.25: threshold 0.125 keeps three; 0.05: threshold 0.025 keeps all; 1: only the top one.
  out = float_values(infer::filtered_logits(z, with_min_p(1.0, 0.25)));
  EXPECT_TRUE(std::isfinite(out[2]));
  EXPECT_EQ(out[3], -kInfF);
  for (float v : float_values(infer::filtered_logits(z, with_min_p(1.0, 0.05)))) EXPECT_TRUE(std::isfinite(v));
  out = float_values(infer::filtered_logits(z, with_min_p(1.0, 1.0)));
  EXPECT_TRUE(std::isfinite(out[0]));
  EXPECT_EQ(out[1], -kInfF);
  // Kept logits are the temperature-scaled ones, unchanged.
  EXPECT_FLOAT_EQ(float_values(infer::filtered_logits(z, with_min_p(1.0, 0.4)))[1], static_cast<float>(std::log(0.3)));
}

TEST(MinP, ComesAfterTemperature) {
  // At temperature 2 the probabilities are proportional to sqrt(p): relative to the top 1, 0.775, 0.548, 0.316,
  // so min_p 0.4 keeps three tokens (at temperature 1 it keeps two).
  const torch::Tensor z = log_probs_f32({0.5, 0.3, 0.15, 0.05});
  const auto out = float_values(infer::filtered_logits(z, with_min_p(2.0, 0.4)));
  EXPECT_TRUE(std::isfinite(out[0]) && std::isfinite(out[1]) && std::isfinite(out[2]));
  EXPECT_EQ(out[3], -kInfF);
  EXPECT_FLOAT_EQ(out[0], static_cast<float>(std::log(0.5) / 2));
}

TEST(MinP, ComesAfterTopK) {
  // top-k 2 leaves 0.5 and 0.3 (renormalised 0.625, 0.375): min_p 0.7 then drops the second one.
  const torch::Tensor z = log_probs_f32({0.5, 0.3, 0.15, 0.05});
  SamplingOptions o = with_min_p(1.0, 0.7);
  o.top_k = 2;
  const auto out = float_values(infer::filtered_logits(z, o));
  EXPECT_TRUE(std::isfinite(out[0]));
  EXPECT_EQ(out[1], -kInfF);
  EXPECT_EQ(out[2], -kInfF);
}

TEST(MinP, DrawsOnlyKeptTokens) {
  at::Generator gen = at::detail::createCPUGenerator(3);
  const torch::Tensor z = log_probs_f32({0.4, 0.35, 0.2, 0.05});
  const SamplingOptions o = with_min_p(1.0, 0.6);  // threshold 0.24: ids 0 and 1
  for (int i = 0; i < 200; ++i) EXPECT_LT(infer::sample_token(z, o, gen), 2);
}

TEST(SamplingChecks, NameTheNewFields) {
  auto message = [](SamplingOptions o) {
    try {
      infer::check_sampling_options(o);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  SamplingOptions o;
  for (double bad : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    o = SamplingOptions();
    o.repetition_penalty = bad;
    EXPECT_NE(message(o).find("repetition_penalty"), std::string::npos) << bad;
  }
  for (double bad : {-0.1, 1.5, std::nan("")}) {
    o = SamplingOptions();
    o.min_p = bad;
    EXPECT_NE(message(o).find("min_p"), std::string::npos) << bad;
  }
  o = SamplingOptions();
  o.min_p = 0;
  o.repetition_penalty = 0.5;
  EXPECT_EQ(message(o), "accepted");
  o.min_p = 1;
  EXPECT_EQ(message(o), "accepted");
}

TEST(SeenTokens, KeepsDistinctIdsInFirstSeenOrder) {
  infer::SeenTokens seen(10);
  seen.add({3, 1, 3, 9, 10, -1, 1});
  EXPECT_EQ(seen.ids(), (std::vector<int64_t>{3, 1, 9}));
  seen.clear();
  EXPECT_TRUE(seen.ids().empty());
  seen.add(3);
  EXPECT_EQ(seen.ids(), (std::vector<int64_t>{3}));
}

}  // namespace
}  // namespace memtx::test
