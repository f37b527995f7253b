// train/schedule.hpp: the learning-rate schedule, as a factor f(step) that multiplies every group's own peak
// lr (so all groups follow the same shape, each proportional to its peak: lr_g(step) = peak_g * f(step)).
// step is the 0-based index of the optimizer update about to be made (the first update uses f(0)).
//   T = total steps = num_epochs * steps_per_epoch when training.num_epochs is set, else training.max_steps
//   W = warm-up steps = round(warmup_ratio * T) when training.warmup_ratio is set, else training.warmup_steps
//   m = training.min_lr_ratio
//   warm-up (step < W):   f = (step + 1) / W                 (linear from 1/W up to exactly 1 at step W-1)
//   after:  p = clamp((step - W) / max(1, T - W), 0, 1)       (progress; 1 at and past the end)
//     cosine:   f = m + (1 - m) * 0.5 * (1 + cos(pi * p))   (peak*f = min + (peak-min)*0.5*(1+cos(pi*p)))
//     linear:   f = 1 - (1 - m) * p                         (peak*f = peak - (peak-min)*p)
//     constant: f = 1                                       (min_lr_ratio unused)
// Past the end (step >= T) f stays at its final value (m for cosine and linear).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "memtx/config.hpp"
#include "memtx/export.h"
#include "train/param_groups.hpp"

namespace memtx::train {

enum class ScheduleKind { Cosine, Linear, Constant };

MEMTX_API const char* schedule_kind_name(ScheduleKind kind);  // "cosine", "linear", "constant"
MEMTX_API ScheduleKind parse_schedule_kind(const std::string& name);  // Error(Config) naming training.scheduler

struct MEMTX_API Schedule {
  ScheduleKind kind = ScheduleKind::Cosine;
  int64_t total_steps = 1;   // T >= 1
  int64_t warmup_steps = 0;  // W >= 0
  double min_lr_ratio = 0.1;

  double factor(int64_t step) const;  // f(step) above; Error(InvalidArgument) for step < 0
};

// From training.scheduler, max_steps, num_epochs, warmup_steps, warmup_ratio, min_lr_ratio.
// steps_per_epoch (optimizer steps in one pass over the data) is needed only when training.num_epochs is set:
// Error(InvalidArgument) when it is then < 1.
MEMTX_API Schedule schedule_from_config(const Config& config, int64_t steps_per_epoch = 0);

// f(step), Schedule::factor.
MEMTX_API double lr_factor(const Schedule& schedule, int64_t step);

// Sets every optimizer param group's lr to groups[i].lr * factor (groups as given to make_optimizer).
// Error(InvalidArgument) when the group counts differ.
MEMTX_API void apply_lr_factor(torch::optim::Optimizer& optimizer, const std::vector<ParamGroup>& groups,
                               double factor);

}  // namespace memtx::train
