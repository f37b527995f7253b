// train/precision.hpp: how training.mixed_precision becomes what a step runs in.
//   no    parameters' dtype, no autocast
//   bf16  autocast to bfloat16: on CUDA always; on the CPU only when LibTorch has oneDNN and the CPU has native
//         bf16 instructions (avx512_bf16 or amx_bf16 in /proc/cpuinfo), otherwise fp32 (bf16 emulated in
//         software is slower than fp32) — the reason goes into the log
//   fp16  autocast to float16 with dynamic loss scaling on CUDA; fp32 on the CPU (said in the log)
// Dynamic loss scaling (fp16): the loss is multiplied by S before backward; gradients are divided by S before
// clipping; a step whose gradients hold Inf/NaN is an overflow: its update is dropped and S <- S * 0.5; after
// growth_interval good steps in a row S <- S * 2. S starts at 2^16.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "memtx/export.h"

namespace memtx::train {

struct Precision {
  bool autocast = false;
  torch::ScalarType dtype = torch::kFloat32;  // what autocast casts to
  bool loss_scaling = false;                  // fp16 only
  std::string name = "fp32";                  // "fp32", "bf16", "fp16" (what actually runs)
  std::string note;                           // why it differs from what was asked ("" when it does not)
};

// True when this CPU has native bf16 instructions (avx512_bf16 or amx_bf16) and LibTorch has oneDNN.
MEMTX_API bool cpu_has_fast_bf16();

// requested: training.mixed_precision ("no", "bf16", "fp16"). Error(Config) for any other text.
MEMTX_API Precision resolve_precision(const std::string& requested, const torch::Device& device);

// Autocast on for its lifetime (when precision.autocast), restored and its cast cache cleared at the end.
class MEMTX_API AutocastScope {
 public:
  AutocastScope(const Precision& precision, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  c10::DeviceType device_type_;
};

class MEMTX_API LossScaler {
 public:
  explicit LossScaler(bool enabled, double initial_scale = 65536.0, int64_t growth_interval = 2000);
  double scale() const { return enabled_ ? scale_ : 1.0; }
  bool enabled() const { return enabled_; }
  // Divides every gradient by the scale (no-op when disabled).
  void unscale(const std::vector<std::pair<std::string, torch::Tensor>>& params) const;
  // After a step: finite == false halves the scale (and returns false: drop the update); finite == true counts
  // a good step and doubles the scale after growth_interval of them.
  bool update(bool finite);
  // The scaler's position, for checkpoints, and putting it back on resume (Error(InvalidArgument) for a scale
  // that is not finite and > 0, or negative good steps).
  int64_t good_steps() const { return good_steps_; }
  void restore(double scale, int64_t good_steps);

 private:
  bool enabled_;
  double scale_;
  int64_t growth_interval_;
  int64_t good_steps_ = 0;
};

}  // namespace memtx::train
