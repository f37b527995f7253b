// train/schedule.cpp: warm-up + cosine / linear / constant learning-rate factor (formulas in schedule.hpp).
#include "train/schedule.hpp"

#include <algorithm>
#include <cmath>

namespace memtx::train {

const char* schedule_kind_name(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::Cosine: return "cosine";
    case ScheduleKind::Linear: return "linear";
    case ScheduleKind::Constant: return "constant";
  }
  return "cosine";
}

ScheduleKind parse_schedule_kind(const std::string& name) {
  if (name == "cosine") return ScheduleKind::Cosine;
  if (name == "linear") return ScheduleKind::Linear;
  if (name == "constant") return ScheduleKind::Constant;
  throw Error(StatusCode::Config,
              "training.scheduler: unknown schedule '" + name + "', expected cosine, linear or constant");
}

double Schedule::factor(int64_t step) const {
  if (step < 0) throw Error(StatusCode::InvalidArgument, "learning-rate schedule: negative step " + std::to_string(step));
  if (step < warmup_steps) return static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  if (kind == ScheduleKind::Constant) return 1.0;
  const double span = static_cast<double>(std::max<int64_t>(1, total_steps - warmup_steps));
  const double progress = std::clamp(static_cast<double>(step - warmup_steps) / span, 0.0, 1.0);
  const double m = min_lr_ratio;
  if (kind == ScheduleKind::Linear) return 1.0 - (1.0 - m) * progress;
  const double pi = std::acos(-1.0);
  return m + (1.0 - m) * 0.5 * (1.0 + std::cos(pi * progress));
}

double lr_factor(const Schedule& schedule, int64_t step) { return schedule.factor(step); }

Schedule schedule_from_config(const Config& config, int64_t steps_per_epoch) {
  Schedule s;
  s.kind = parse_schedule_kind(config.get_string("training.scheduler"));
  s.min_lr_ratio = config.get_float("training.min_lr_ratio");
  if (auto epochs = config.get_opt_int("training.num_epochs")) {
    if (steps_per_epoch < 1)
      throw Error(StatusCode::InvalidArgument,
                  "learning-rate schedule: training.num_epochs is set (" + std::to_string(*epochs) +
                      ") but the number of optimizer steps per epoch is " + std::to_string(steps_per_epoch) +
                      " (the data gives no full step)");
    s.total_steps = *epochs * steps_per_epoch;
  } else {
    s.total_steps = config.get_int("training.max_steps");
  }
  if (s.total_steps < 1)
    throw Error(StatusCode::InvalidArgument, "learning-rate schedule: total steps " + std::to_string(s.total_steps));
  if (auto ratio = config.get_opt_float("training.warmup_ratio")) {
    s.warmup_steps = static_cast<int64_t>(std::llround(*ratio * static_cast<double>(s.total_steps)));
  } else {
    s.warmup_steps = config.get_int("training.warmup_steps");
  }
  return s;
}

void apply_lr_factor(torch::optim::Optimizer& optimizer, const std::vector<ParamGroup>& groups, double factor) {
  auto& torch_groups = optimizer.param_groups();
  if (torch_groups.size() != groups.size())
    throw Error(StatusCode::InvalidArgument, "apply_lr_factor: optimizer has " + std::to_string(torch_groups.size()) +
                                                 " parameter groups but " + std::to_string(groups.size()) +
                                                 " groups were given");
  for (size_t i = 0; i < groups.size(); ++i) torch_groups[i].options().set_lr(groups[i].lr * factor);
}

}  // namespace memtx::train
