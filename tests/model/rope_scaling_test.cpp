// tests/model/rope_scaling_test.cpp: RoPE frequency scaling (memtx/ops.hpp rope_frequencies, model.rope_scaling)
// against the closed forms of each type, the rotation it applies, and the config keys that select it.
// (transformers judges imported scaled models in tests/peer/rope_scaling_transformers.py.)
#include <cmath>

#include "common/error_of.hpp"
#include "memtx/ops.hpp"
#include "test_support.hpp"

namespace memtx::test {
namespace {

using Type = RopeScaling::Type;
const auto kRopeF64 = torch::TensorOptions().dtype(torch::kFloat64);
constexpr double kTheta = 10000.0;
constexpr int64_t kR = 16;

torch::Tensor plain(int64_t r = kR) { return ops::rope_frequencies(kTheta, r, RopeScaling{}, 1, kRopeF64).inv_freq; }

RopeScaling scaling(Type type, double factor, int64_t original) {
  RopeScaling s;
  s.type = type;
  s.factor = factor;
  s.original_max_position = original;
  return s;
}

TEST(RopeScaling, LinearDividesEveryFrequency) {
  const auto f = ops::rope_frequencies(kTheta, kR, scaling(Type::Linear, 4.0, 0), 1000, kRopeF64);
  EXPECT_LE(max_abs_diff(f.inv_freq * 4.0, plain()), 1e-15);
  EXPECT_EQ(f.attention_factor, 1.0);
}

TEST(RopeScaling, DynamicRaisesTheBaseOnlyPastTheOriginalLength) {
  const RopeScaling s = scaling(Type::Dynamic, 2.0, 64);
  EXPECT_LE(max_abs_diff(ops::rope_frequencies(kTheta, kR, s, 64, kRopeF64).inv_freq, plain()), 1e-15);
  // At 128 positions: theta' = theta * (2 * 128 / 64 - 1)^(r / (r - 2)) = theta * 3^(16/14).
  const double base = kTheta * std::pow(3.0, 16.0 / 14.0);
  const auto expected = torch::pow(base, -torch::arange(0, kR, 2, kRopeF64) / double(kR));
  EXPECT_LE(max_abs_diff(ops::rope_frequencies(kTheta, kR, s, 128, kRopeF64).inv_freq, expected), 1e-15);
}

TEST(RopeScaling, Llama3KeepsHighFrequenciesDividesLowOnesAndBlendsBetween) {
  RopeScaling s = scaling(Type::Llama3, 8.0, 64);
  s.low_freq_factor = 1.0;
  s.high_freq_factor = 4.0;
  const auto f = ops::rope_frequencies(kTheta, kR, s, 1, kRopeF64).inv_freq;
  const auto base = plain();
  for (int64_t i = 0; i < kR / 2; ++i) {
    const double w = 2 * M_PI / base[i].item<double>(), got = f[i].item<double>(), inv = base[i].item<double>();
    if (w < 64.0 / 4.0) {
      EXPECT_DOUBLE_EQ(got, inv) << i;
    } else if (w > 64.0 / 1.0) {
      EXPECT_DOUBLE_EQ(got, inv / 8.0) << i;
    } else {
      const double smooth = (64.0 / w - 1.0) / (4.0 - 1.0);
      EXPECT_NEAR(got, (1 - smooth) * inv / 8.0 + smooth * inv, 1e-15) << i;
    }
  }
  EXPECT_DOUBLE_EQ(f[0].item<double>(), base[0].item<double>());              // the fastest pair is kept
  EXPECT_DOUBLE_EQ(f[kR / 2 - 1].item<double>(), base[kR / 2 - 1].item<double>() / 8.0);  // the slowest divided
}

TEST(RopeScaling, YarnRampsFromKeptToDividedAndScalesCosAndSin) {
  RopeScaling s = scaling(Type::Yarn, 4.0, 64);
  s.attention_factor = 0.1 * std::log(4.0) + 1.0;
  const auto f = ops::rope_frequencies(kTheta, kR, s, 1, kRopeF64);
  const auto base = plain();
  // Correction range: c(n) = r ln(L0 / (2 pi n)) / (2 ln theta); low = floor(c(32)), high = ceil(c(1)).
  auto c = [](double n) { return kR * std::log(64.0 / (2 * M_PI * n)) / (2 * std::log(kTheta)); };
  const double low = std::max(std::floor(c(32.0)), 0.0), high = std::min(std::ceil(c(1.0)), double(kR - 1));
  for (int64_t i = 0; i < kR / 2; ++i) {
    const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
    const double inv = base[i].item<double>();
    EXPECT_NEAR(f.inv_freq[i].item<double>(), inv / 4.0 * ramp + inv * (1 - ramp), 1e-15) << i;
  }
  EXPECT_DOUBLE_EQ(f.attention_factor, 0.1 * std::log(4.0) + 1.0);
  // The rotation keeps each pair's norm times the attention factor.
  torch::manual_seed(1);
  const auto x = torch::randn({1, 2, 5, kR}, kRopeF64);
  const auto y = ops::apply_rope(x, 3, kTheta, RopeLayout::Half, 0, s);
  auto pair_norm = [](const torch::Tensor& t) {
    return (t.narrow(-1, 0, kR / 2).pow(2) + t.narrow(-1, kR / 2, kR / 2).pow(2)).sqrt();
  };
  EXPECT_LE(max_abs_diff(pair_norm(y), pair_norm(x) * f.attention_factor), 1e-12);
}

TEST(RopeScaling, NoScalingIsTheUnscaledRotation) {
  torch::manual_seed(2);
  const auto x = torch::randn({2, 3, 7, kR});
  EXPECT_TRUE(torch::equal(ops::apply_rope(x, 5, kTheta, RopeLayout::Interleaved, 0, RopeScaling{}),
                           ops::apply_rope(x, 5, kTheta, RopeLayout::Interleaved)));
}

TEST(RopeScaling, ConfigKeysSelectTheTypeAndRefuseWhatTheyDoNotRead) {
  Transformer linear(tiny_config({"model.rope_scaling=linear", "model.rope_scaling_factor=4"}), plugin_registry());
  EXPECT_EQ(linear->spec().attention.rope_scaling.type, Type::Linear);
  EXPECT_EQ(linear->spec().attention.rope_scaling.factor, 4.0);
  Transformer yarn(tiny_config({"model.rope_scaling=yarn", "model.rope_scaling_factor=4",
                                "model.rope_original_max_seq_len=32"}),
                   plugin_registry());
  EXPECT_EQ(yarn->spec().attention.rope_scaling.original_max_position, 32);
  EXPECT_DOUBLE_EQ(yarn->spec().attention.rope_scaling.attention_factor, 0.1 * std::log(4.0) + 1.0);
  // The same weights with and without the scaling give other logits on positions past a few tokens.
  torch::manual_seed(3);
  Transformer unscaled(tiny_config(), plugin_registry());
  torch::NoGradGuard no_grad;
  for (auto& p : yarn->named_parameters()) p.value().copy_(unscaled->named_parameters()[p.key()]);
  const auto tokens = torch::randint(0, 97, {1, 40});
  EXPECT_GT(max_abs_diff(yarn->forward(tokens), unscaled->forward(tokens)), 1e-4);
  // A factor without a scaling type would change nothing: refused with the key named.
  const std::string m = memtx_test::error_of(
      [] { Transformer t(tiny_config({"model.rope_scaling_factor=4"}), plugin_registry()); }, StatusCode::Config);
  EXPECT_NE(m.find("model.rope_scaling_factor"), std::string::npos) << m;
}

}  // namespace
}  // namespace memtx::test
