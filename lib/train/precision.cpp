// train/precision.cpp: mixed-precision choice, the autocast scope and the fp16 loss scaler (precision.hpp).
#include "train/precision.hpp"

#include <cmath>
#include <fstream>

#include "memtx/error.hpp"
#include "memtx/torch_compat.hpp"

namespace memtx::train {

bool cpu_has_fast_bf16() {
  if (!at::hasMKLDNN()) return false;
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    return line.find(" avx512_bf16") != std::string::npos || line.find(" amx_bf16") != std::string::npos;
  }
  return false;
}

Precision resolve_precision(const std::string& requested, const torch::Device& device) {
  Precision p;
  if (requested == "no") return p;
  if (requested != "bf16" && requested != "fp16")
    throw Error(StatusCode::Config, "training.mixed_precision: '" + requested + "' is not one of no, bf16, fp16");
  if (device.is_cuda()) {
    p.autocast = true;
    p.dtype = requested == "bf16" ? torch::kBFloat16 : torch::kFloat16;
    p.loss_scaling = requested == "fp16";
    p.name = requested;
    return p;
  }
  if (requested == "fp16") {
    p.note = "training.mixed_precision fp16 runs in fp32 on the CPU (fp16 autocast is a GPU feature)";
    return p;
  }
  if (!cpu_has_fast_bf16()) {
    p.note = at::hasMKLDNN() ? "training.mixed_precision bf16 runs in fp32: this CPU has no native bf16 "
                               "instructions (avx512_bf16 or amx_bf16), so bf16 would be slower"
                             : "training.mixed_precision bf16 runs in fp32: this LibTorch has no oneDNN for bf16 "
                               "matrix products on the CPU";
    return p;
  }
  p.autocast = true;
  p.dtype = torch::kBFloat16;
  p.name = "bf16";
  return p;
}

AutocastScope::AutocastScope(const Precision& precision, const torch::Device& device)
    : active_(precision.autocast), device_type_(device.type()) {
  if (active_) compat::set_autocast(device_type_, true, precision.dtype);
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  compat::set_autocast(device_type_, false, torch::kFloat32);
  at::autocast::clear_cache();
}

LossScaler::LossScaler(bool enabled, double initial_scale, int64_t growth_interval)
    : enabled_(enabled), scale_(initial_scale), growth_interval_(growth_interval) {}

void LossScaler::unscale(const std::vector<std::pair<std::string, torch::Tensor>>& params) const {
  if (!enabled_) return;
  torch::NoGradGuard no_grad;
  for (const auto& [name, p] : params)
    if (p.grad().defined()) p.grad().mul_(1.0 / scale_);
}

void LossScaler::restore(double scale, int64_t good_steps) {
  if (!std::isfinite(scale) || scale <= 0 || good_steps < 0)
    throw Error(StatusCode::InvalidArgument, "loss scaler: cannot restore scale " + std::to_string(scale) +
                                                 " with " + std::to_string(good_steps) + " good steps");
  scale_ = scale;
  good_steps_ = good_steps;
}

bool LossScaler::update(bool finite) {
  if (!enabled_) return finite;
  if (!finite) {
    scale_ *= 0.5;
    good_steps_ = 0;
    return false;
  }
  if (++good_steps_ >= growth_interval_) {
    scale_ *= 2.0;
    good_steps_ = 0;
  }
  return true;
}

}  // namespace memtx::train
