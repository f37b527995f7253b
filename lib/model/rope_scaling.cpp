// model/rope_scaling.cpp: RoPE's inverse frequencies with context-extension scaling (linear, dynamic NTK, Llama 3,
// YaRN); the equations are at RopeScaling in memtx/attention.hpp. Computed in float32 the way transformers
// computes them, so that an imported model's positions rotate by the same angles.
#include <cmath>

#include "memtx/error.hpp"
#include "memtx/ops.hpp"

namespace memtx::ops {
namespace {

constexpr double kPi = 3.14159265358979323846;

// theta^(2i/r) for i < r/2, as transformers forms it (the exponent in float32).
torch::Tensor position_frequencies(double theta, int64_t r, const torch::TensorOptions& options) {
  return torch::pow(theta, torch::arange(0, r, 2, options) / static_cast<double>(r));
}

// YaRN's correction dimension: the channel pair index whose wavelength fits `rotations` turns in `context`.
double correction_dim(double rotations, int64_t r, double theta, double context) {
  return static_cast<double>(r) * std::log(context / (rotations * 2.0 * kPi)) / (2.0 * std::log(theta));
}

RopeFrequencies yarn(double theta, int64_t r, const RopeScaling& s, const torch::TensorOptions& options) {
  const auto pos_freqs = position_frequencies(theta, r, options);
  const auto extrapolation = 1.0 / pos_freqs;
  const auto interpolation = 1.0 / (s.factor * pos_freqs);
  const double context = static_cast<double>(s.original_max_position);
  double low = std::floor(correction_dim(s.beta_fast, r, theta, context));
  double high = std::ceil(correction_dim(s.beta_slow, r, theta, context));
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(r - 1));
  if (low == high) high += 0.001;  // a ramp of zero width
  const auto ramp = ((torch::arange(r / 2, options) - low) / (high - low)).clamp(0.0, 1.0);
  const auto keep = 1.0 - ramp;  // 1: extrapolate (unchanged), 0: interpolate (divided by factor)
  return {interpolation * (1.0 - keep) + extrapolation * keep, s.attention_factor};
}

torch::Tensor llama3(double theta, int64_t r, const RopeScaling& s, const torch::TensorOptions& options) {
  const auto inv_freq = 1.0 / position_frequencies(theta, r, options);
  const double context = static_cast<double>(s.original_max_position);
  const double low_wavelength = context / s.low_freq_factor, high_wavelength = context / s.high_freq_factor;
  const auto wavelength = 2.0 * kPi / inv_freq;
  auto scaled = torch::where(wavelength > low_wavelength, inv_freq / s.factor, inv_freq);
  const auto smooth = (context / wavelength - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  const auto blended = (1.0 - smooth) * scaled / s.factor + smooth * scaled;
  const auto medium = (wavelength >= high_wavelength).logical_and(wavelength <= low_wavelength);
  return torch::where(medium, blended, scaled);
}

}  // namespace

RopeFrequencies rope_frequencies(double theta, int64_t r, const RopeScaling& scaling, int64_t seq_len,
                                 const torch::TensorOptions& options) {
  using Type = RopeScaling::Type;
  switch (scaling.type) {
    case Type::None:
      return {torch::pow(theta, -torch::arange(0, r, 2, options) / static_cast<double>(r)), 1.0};
    case Type::Linear:
      return {1.0 / position_frequencies(theta, r, options) / scaling.factor, 1.0};
    case Type::Dynamic: {
      const double context = static_cast<double>(scaling.original_max_position);
      const double length = std::max(static_cast<double>(seq_len), context);
      const double base = theta * std::pow(scaling.factor * length / context - (scaling.factor - 1.0),
                                           static_cast<double>(r) / static_cast<double>(r - 2));
      return {1.0 / position_frequencies(base, r, options), 1.0};
    }
    case Type::Llama3:
      return {llama3(theta, r, scaling, options), 1.0};
    case Type::Yarn:
      return yarn(theta, r, scaling, options);
  }
  throw Error(StatusCode::Internal, "rope: unknown scaling type");
}

}  // namespace memtx::ops
