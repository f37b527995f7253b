// Tests of generation and sampling: cached greedy decoding equals greedy decoding by re-running the whole
// sequence without a cache (causal, ssm, mla with both caches, and a [causal, ssm, mla, co4] mix), with the
// cached logits matching the full forward's; top-k/top-p filtering against hand-computed cases; seeds; stop
// tokens; cancellation; error paths; the model's training mode is restored.
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <set>

#include "infer/generate.hpp"
#include "infer/sampling.hpp"
#include "memtx/error.hpp"
#include "model/test_support.hpp"

namespace memtx::test {
namespace {

using infer::GenerateOptions;
using infer::SamplingOptions;
using infer::StopReason;

constexpr double kInf = std::numeric_limits<double>::infinity();

torch::Tensor row_tensor(const std::vector<int64_t>& ids) { return torch::tensor(ids, torch::kLong).unsqueeze(0); }

// The reference: every step re-runs the whole sequence without state and takes the argmax of the last row.
std::vector<int64_t> greedy_by_reforward(Transformer& model, std::vector<int64_t> seq, int64_t n,
                                         std::vector<torch::Tensor>* rows) {
  torch::NoGradGuard no_grad;
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n; ++i) {
    auto logits = model->forward(row_tensor(seq));
    auto row = logits[0][logits.size(1) - 1];
    rows->push_back(row);
    const int64_t next = row.argmax().item<int64_t>();
    out.push_back(next);
    seq.push_back(next);
  }
  return out;
}

struct VariantCase {
  const char* name;
  std::vector<std::string> variants;  // plugins it needs
  std::vector<std::string> overrides;
};

std::vector<VariantCase> variant_cases() {
  return {
      {"causal", {"causal"}, {"attention.attention_variant=causal", "attention.n_kv_group=2"}},
      {"ssm", {"ssm"}, {"attention.attention_variant=ssm"}},
      {"mla_latent_cache", {"mla"}, {"attention.attention_variant=mla", "attention.mla_latent_dim=8",
                                     "attention.mla_rotary_dim=4", "attention.mla_cache=latent"}},
      {"mla_expanded_cache", {"mla"}, {"attention.attention_variant=mla", "attention.mla_latent_dim=8",
                                       "attention.mla_rotary_dim=4", "attention.mla_cache=expanded"}},
      {"mix_causal_ssm_mla_co4", {"causal", "ssm", "mla", "co4"},
       {"model.num_layers=4", "attention.attention_list=[causal, ssm, mla, co4]", "attention.mla_latent_dim=8",
        "attention.mla_rotary_dim=4", "attention.n_latent=2"}},
  };
}

TEST(Generate, CachedGreedyEqualsGreedyByFullReforward) {
  const std::vector<int64_t> prompt = {5, 17, 42, 8, 91, 33, 2};
  const int64_t n = 12;
  int tested = 0;
  for (const auto& c : variant_cases()) {
    if (!has_variants(c.variants)) {
      std::cout << "[generate] skip " << c.name << ": variant not built\n";
      continue;
    }
    SCOPED_TRACE(c.name);
    Transformer model = model_with(c.overrides);
    model->eval();
    std::vector<torch::Tensor> reference_rows;
    const auto reference = greedy_by_reforward(model, prompt, n, &reference_rows);

    GenerateOptions options;
    options.max_new_tokens = n;
    options.sampling.temperature = 0.0;
    const auto result = infer::generate(*model, prompt, options);
    EXPECT_EQ(result.tokens, reference);
    EXPECT_EQ(result.reason, StopReason::MaxTokens);

    // The cache's logits at every step equal the full forward's (prefill, then one token per call).
    torch::NoGradGuard no_grad;
    ModelState state = model->initial_state(1);
    auto logits = model->forward(row_tensor(prompt), &state, /*use_cache=*/true);
    double worst = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      worst = std::max(worst, max_abs_diff(logits[0][logits.size(1) - 1], reference_rows[i]));
      logits = model->forward(row_tensor({reference[i]}), &state, /*use_cache=*/true);
    }
    EXPECT_LT(worst, 1e-4);
    EXPECT_EQ(state.position, static_cast<int64_t>(prompt.size()) + n);
    std::cout << "[generate] " << c.name << ": cached vs full logits max abs diff " << worst << ", tokens";
    for (auto t : result.tokens) std::cout << " " << t;
    std::cout << "\n";
    ++tested;
  }
  EXPECT_GE(tested, 1);
}

TEST(Generate, SampledGenerationMatchesAHandLoopWithTheSameGenerator) {
  Transformer model = model_with({});
  model->eval();
  const std::vector<int64_t> prompt = {3, 1, 4, 1, 5};
  GenerateOptions options;
  options.max_new_tokens = 10;
  options.sampling = SamplingOptions{0.8, 20, 0.9};
  options.seed = 77;
  const auto result = infer::generate(*model, prompt, options);
  ASSERT_EQ(result.tokens.size(), 10u);

  torch::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(77);
  std::vector<int64_t> seq = prompt, expected;
  for (int i = 0; i < 10; ++i) {
    auto logits = model->forward(row_tensor(seq));
    const int64_t next = infer::sample_token(logits[0][logits.size(1) - 1], options.sampling, gen);
    expected.push_back(next);
    seq.push_back(next);
  }
  EXPECT_EQ(result.tokens, expected);
}

TEST(Generate, SameSeedSameTokensOtherSeedOtherTokens) {
  // Default initialisation (std 0.02): the next-token distribution is close to uniform over 97 ids, so two
  // seeds agreeing on 24 draws has probability about 97^-24.
  Transformer model(tiny_config(), plugin_registry());
  const std::vector<int64_t> prompt = {10, 20, 30};
  GenerateOptions options;
  options.max_new_tokens = 24;
  options.seed = 1;
  const auto a = infer::generate(*model, prompt, options);
  const auto b = infer::generate(*model, prompt, options);
  options.seed = 2;
  const auto c = infer::generate(*model, prompt, options);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_NE(a.tokens, c.tokens);
  std::set<int64_t> distinct(a.tokens.begin(), a.tokens.end());
  EXPECT_GT(distinct.size(), 12u) << "a flat distribution gives mostly distinct tokens";
  // The global torch RNG is not used: drawing from it in between changes nothing.
  torch::rand({100});
  options.seed = 1;
  EXPECT_EQ(infer::generate(*model, prompt, options).tokens, a.tokens);
}

TEST(Generate, StopTokenEndsGenerationAndIsNotReturned) {
  Transformer model = model_with({});
  const std::vector<int64_t> prompt = {7, 8, 9, 60, 61};
  GenerateOptions options;
  options.max_new_tokens = 10;
  options.sampling.temperature = 0.0;
  const auto full = infer::generate(*model, prompt, options).tokens;
  ASSERT_EQ(full.size(), 10u);
  // The first position whose token did not occur before it (position 0 when the model repeats one token).
  size_t cut = 0;
  for (size_t j = 1; j < full.size() && cut == 0; ++j)
    if (std::find(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(j), full[j]) == full.begin() + static_cast<std::ptrdiff_t>(j)) cut = j;
  options.stop_tokens = {full[cut]};
  const auto stopped = infer::generate(*model, prompt, options);
  EXPECT_EQ(stopped.tokens, std::vector<int64_t>(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut)));
  EXPECT_EQ(stopped.reason, StopReason::StopToken);
  ASSERT_TRUE(stopped.stop_token.has_value());
  EXPECT_EQ(*stopped.stop_token, full[cut]);
  // A stop token that is never produced changes nothing.
  int64_t absent = 0;
  while (std::find(full.begin(), full.end(), absent) != full.end()) ++absent;
  options.stop_tokens = {absent};
  EXPECT_EQ(infer::generate(*model, prompt, options).tokens, full);
  // max_new_tokens cuts the same sequence.
  options.stop_tokens.clear();
  options.max_new_tokens = 4;
  const auto short_run = infer::generate(*model, prompt, options);
  EXPECT_EQ(short_run.tokens, std::vector<int64_t>(full.begin(), full.begin() + 4));
  EXPECT_EQ(short_run.reason, StopReason::MaxTokens);
  options.max_new_tokens = 0;
  EXPECT_TRUE(infer::generate(*model, prompt, options).tokens.empty());
}

TEST(Generate, VocabLimitKeepsDrawsBelowIt) {
  Transformer model(tiny_config(), plugin_registry());
  GenerateOptions options;
  options.max_new_tokens = 40;
  options.vocab_limit = 10;
  const auto result = infer::generate(*model, {50, 60}, options);
  ASSERT_EQ(result.tokens.size(), 40u);
  for (auto t : result.tokens) EXPECT_LT(t, 10);
}

TEST(Generate, CancelFlagStopsBeforeAnyToken) {
  Transformer model(tiny_config(), plugin_registry());
  std::atomic<bool> cancel{true};
  GenerateOptions options;
  const auto result = infer::generate(*model, {1, 2, 3}, options, &cancel);
  EXPECT_TRUE(result.tokens.empty());
  EXPECT_EQ(result.reason, StopReason::Cancelled);
  EXPECT_STREQ(infer::stop_reason_name(result.reason), "cancelled");
  cancel = false;
  EXPECT_EQ(infer::generate(*model, {1, 2, 3}, options, &cancel).tokens.size(), 64u);
}

TEST(Generate, RestoresTrainingModeAndLeavesNoGradients) {
  Transformer model = model_with({"model.dropout=0.5"});
  model->train();
  GenerateOptions options;
  options.max_new_tokens = 6;
  options.sampling.temperature = 0.0;
  const auto a = infer::generate(*model, {4, 5, 6}, options);
  EXPECT_TRUE(model->is_training());
  // Dropout is off while generating: greedy runs agree although the model is in training mode.
  EXPECT_EQ(infer::generate(*model, {4, 5, 6}, options).tokens, a.tokens);
  for (const auto& p : model->parameters()) EXPECT_FALSE(p.grad().defined());
  model->eval();
  EXPECT_EQ(infer::generate(*model, {4, 5, 6}, options).tokens, a.tokens);
  EXPECT_FALSE(model->is_training());
}

void expect_invalid(const std::function<void()>& body, const std::string& fragment) {
  try {
    body();
    ADD_FAILURE() << "no error; expected one containing '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::InvalidArgument) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Generate, RejectsBadArguments) {
  Transformer model(tiny_config(), plugin_registry());
  GenerateOptions options;
  expect_invalid([&] { infer::generate(*model, {}, options); }, "prompt is empty");
  expect_invalid([&] { infer::generate(*model, {1, 97}, options); }, "prompt token 97");
  options.stop_tokens = {-1};
  expect_invalid([&] { infer::generate(*model, {1}, options); }, "stop token -1");
  options.stop_tokens.clear();
  options.max_new_tokens = -2;
  expect_invalid([&] { infer::generate(*model, {1}, options); }, "max_new_tokens");
  options.max_new_tokens = 3;
  options.vocab_limit = 98;
  expect_invalid([&] { infer::generate(*model, {1}, options); }, "vocab_limit");
  options.vocab_limit = 0;
  options.sampling.top_p = 0.0;
  expect_invalid([&] { infer::generate(*model, {1}, options); }, "top_p");
}

// ---- sampling: filters against hand-computed cases ----

std::vector<double> values(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

void expect_kept(const torch::Tensor& filtered, const std::vector<double>& expected) {
  const auto got = values(filtered);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isinf(expected[i])) {
      EXPECT_TRUE(std::isinf(got[i]) && got[i] < 0) << "index " << i << " should be filtered, got " << got[i];
    } else {
      EXPECT_NEAR(got[i], expected[i], 1e-6) << "index " << i;
    }
  }
}

torch::Tensor log_probs(const std::vector<double>& p) { return torch::tensor(p, torch::kFloat64).log().to(torch::kFloat32); }

TEST(Sampling, TopKKeepsTheKLargestAndTiesAtTheKth) {
  const auto z = torch::tensor({1.0f, 3.0f, 2.0f, 3.0f, 0.0f});
  expect_kept(infer::filtered_logits(z, {1.0, 2, 1.0}), {-kInf, 3, -kInf, 3, -kInf});
  expect_kept(infer::filtered_logits(z, {1.0, 1, 1.0}), {-kInf, 3, -kInf, 3, -kInf});  // tie at the 1st value
  expect_kept(infer::filtered_logits(z, {1.0, 3, 1.0}), {-kInf, 3, 2, 3, -kInf});
  expect_kept(infer::filtered_logits(z, {2.0, 3, 1.0}), {-kInf, 1.5, 1, 1.5, -kInf});  // after temperature
  expect_kept(infer::filtered_logits(z, {1.0, 0, 1.0}), {1, 3, 2, 3, 0});               // off
  expect_kept(infer::filtered_logits(z, {1.0, 9, 1.0}), {1, 3, 2, 3, 0});               // k >= vocab
}

TEST(Sampling, TopPKeepsTheSmallestSetReachingP) {
  // probabilities 0.15, 0.5, 0.05, 0.3: sorted 0.5, 0.3, 0.15, 0.05 with mass before each 0, 0.5, 0.8, 0.95.
  const auto z = log_probs({0.15, 0.5, 0.05, 0.3});
  const auto zz = values(z);
  expect_kept(infer::filtered_logits(z, {1.0, 0, 0.45}), {-kInf, zz[1], -kInf, -kInf});
  expect_kept(infer::filtered_logits(z, {1.0, 0, 0.7}), {-kInf, zz[1], -kInf, zz[3]});
  expect_kept(infer::filtered_logits(z, {1.0, 0, 0.85}), {zz[0], zz[1], -kInf, zz[3]});
  expect_kept(infer::filtered_logits(z, {1.0, 0, 0.99}), {zz[0], zz[1], zz[2], zz[3]});
  // top-k first, then top-p over the renormalised rest: 0.5, 0.3, 0.15 -> 0.526, 0.316, 0.158 with mass
  // before 0, 0.526, 0.842; p = 0.83 drops the third (without renormalising, 0.8 < 0.83 would keep it).
  expect_kept(infer::filtered_logits(z, {1.0, 3, 0.83}), {-kInf, zz[1], -kInf, zz[3]});
  expect_kept(infer::filtered_logits(z, {1.0, 3, 0.86}), {zz[0], zz[1], -kInf, zz[3]});
}

TEST(Sampling, DrawsFollowTheFilteredDistribution) {
  // top_k = 2 keeps 0.5 and 0.3: renormalised 0.625 and 0.375.
  const auto z = log_probs({0.15, 0.5, 0.05, 0.3});
  at::Generator gen = at::detail::createCPUGenerator(5);
  int counts[4] = {0, 0, 0, 0};
  const int n = 4000;
  for (int i = 0; i < n; ++i) ++counts[infer::sample_token(z, {1.0, 2, 1.0}, gen)];
  EXPECT_EQ(counts[0] + counts[2], 0);
  EXPECT_NEAR(counts[1] / double(n), 0.625, 0.03);  // 4 standard deviations
  // Temperature 0.5 squares the probabilities: 0.25 : 0.09 -> 0.735 : 0.265.
  counts[1] = counts[3] = 0;
  for (int i = 0; i < n; ++i) ++counts[infer::sample_token(z, {0.5, 2, 1.0}, gen)];
  EXPECT_NEAR(counts[1] / double(n), 0.25 / 0.34, 0.03);
}

TEST(Sampling, GreedyTakesTheFirstMaximum) {
  at::Generator gen = at::detail::createCPUGenerator(0);
  EXPECT_EQ(infer::sample_token(torch::tensor({1.0f, 3.0f, 2.0f, 3.0f}), {0.0, 0, 1.0}, gen), 1);
  EXPECT_EQ(infer::sample_token(torch::tensor({-1.0f, -3.0f, -0.5f}), {0.0, 0, 1.0}, gen), 2);
}

TEST(Sampling, RejectsBadOptions) {
  const auto z = torch::tensor({1.0f, 2.0f});
  expect_invalid([&] { infer::filtered_logits(z, {-1.0, 0, 1.0}); }, "temperature");
  expect_invalid([&] { infer::filtered_logits(z, {std::nan(""), 0, 1.0}); }, "temperature");
  expect_invalid([&] { infer::filtered_logits(z, {1.0, -1, 1.0}); }, "top_k");
  expect_invalid([&] { infer::filtered_logits(z, {1.0, 0, 0.0}); }, "top_p");
  expect_invalid([&] { infer::filtered_logits(z, {1.0, 0, 1.5}); }, "top_p");
}

}  // namespace
}  // namespace memtx::test
