// LR schedule: every formula at known steps (first, end of warm-up, start of decay, middle, quarter, end,
// past the end) against numbers worked out by hand; warm-up ratio vs steps; epochs; per-group scaling.
#include <cmath>

#include "train/optimizer.hpp"
#include "train/schedule.hpp"
#include "train_support.hpp"

namespace memtx::test {
namespace {

using train::Schedule;
using train::ScheduleKind;

// W = 10 warm-up steps, T = 110 total, m = 0.1: decay spans steps 10 .. 110 (100 steps).
Schedule sched(ScheduleKind kind) {
  Schedule s;
  s.kind = kind;
  s.total_steps = 110;
  s.warmup_steps = 10;
  s.min_lr_ratio = 0.1;
  return s;
}

TEST(Schedule, WarmupIsLinearFromOneOverW) {
  for (auto kind : {ScheduleKind::Cosine, ScheduleKind::Linear, ScheduleKind::Constant}) {
    Schedule s = sched(kind);
    EXPECT_DOUBLE_EQ(s.factor(0), 0.1);   // (0+1)/10
    EXPECT_DOUBLE_EQ(s.factor(4), 0.5);   // (4+1)/10
    EXPECT_DOUBLE_EQ(s.factor(9), 1.0);   // (9+1)/10: the peak at the last warm-up step
    EXPECT_DOUBLE_EQ(s.factor(10), 1.0);  // decay starts at progress 0
  }
}

TEST(Schedule, CosineAtKnownSteps) {
  Schedule s = sched(ScheduleKind::Cosine);
  // step 35: p = 25/100 = 0.25, 0.1 + 0.9*0.5*(1+cos(pi/4)) = 0.1 + 0.45*1.7071067811865475
  EXPECT_NEAR(s.factor(35), 0.868198051533946, 1e-12);
  EXPECT_NEAR(s.factor(60), 0.55, 1e-12);   // p = 0.5: 0.1 + 0.45*(1+0)
  EXPECT_NEAR(s.factor(85), 0.231801948466054, 1e-12);  // p = 0.75: 0.1 + 0.45*(1-0.7071067811865475)
  EXPECT_NEAR(s.factor(110), 0.1, 1e-12);   // end: min
  EXPECT_NEAR(s.factor(500), 0.1, 1e-12);   // past the end: stays at min
}

TEST(Schedule, LinearAtKnownSteps) {
  Schedule s = sched(ScheduleKind::Linear);
  EXPECT_NEAR(s.factor(35), 0.775, 1e-12);  // 1 - 0.9*0.25
  EXPECT_NEAR(s.factor(60), 0.55, 1e-12);   // 1 - 0.9*0.5
  EXPECT_NEAR(s.factor(109), 0.109, 1e-12); // 1 - 0.9*0.99
  EXPECT_NEAR(s.factor(110), 0.1, 1e-12);
  EXPECT_NEAR(s.factor(1000), 0.1, 1e-12);
}

TEST(Schedule, ConstantAfterWarmup) {
  Schedule s = sched(ScheduleKind::Constant);
  for (int64_t step : {10, 60, 110, 5000}) EXPECT_DOUBLE_EQ(s.factor(step), 1.0) << step;
}

TEST(Schedule, NoWarmupStartsAtPeakAndMinZero) {
  Schedule s;
  s.kind = ScheduleKind::Cosine;
  s.total_steps = 4;
  s.warmup_steps = 0;
  s.min_lr_ratio = 0.0;
  EXPECT_DOUBLE_EQ(s.factor(0), 1.0);
  EXPECT_NEAR(s.factor(1), 0.8535533905932737, 1e-12);  // 0.5*(1+cos(pi/4))
  EXPECT_NEAR(s.factor(2), 0.5, 1e-12);
  EXPECT_NEAR(s.factor(4), 0.0, 1e-12);
  EXPECT_THROW(s.factor(-1), Error);
}

TEST(Schedule, FromConfigStepsRatioAndEpochs) {
  Schedule s = train::schedule_from_config(
      tiny_config({"training.scheduler=linear", "training.max_steps=1000", "training.warmup_steps=100",
                   "training.min_lr_ratio=0.2"}));
  EXPECT_EQ(s.kind, ScheduleKind::Linear);
  EXPECT_EQ(s.total_steps, 1000);
  EXPECT_EQ(s.warmup_steps, 100);
  EXPECT_DOUBLE_EQ(s.min_lr_ratio, 0.2);

  // warmup_ratio overrides warmup_steps: round(0.25 * 10) = round(2.5) = 3.
  s = train::schedule_from_config(
      tiny_config({"training.max_steps=10", "training.warmup_steps=7", "training.warmup_ratio=0.25"}));
  EXPECT_EQ(s.warmup_steps, 3);
  s = train::schedule_from_config(tiny_config({"training.max_steps=1000", "training.warmup_ratio=0.05"}));
  EXPECT_EQ(s.warmup_steps, 50);

  // num_epochs overrides max_steps: 3 epochs x 40 steps; the ratio applies to that total.
  s = train::schedule_from_config(
      tiny_config({"training.max_steps=1000", "training.num_epochs=3", "training.warmup_ratio=0.1"}), 40);
  EXPECT_EQ(s.total_steps, 120);
  EXPECT_EQ(s.warmup_steps, 12);
  try {
    train::schedule_from_config(tiny_config({"training.num_epochs=3"}), 0);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("num_epochs"), std::string::npos) << e.what();
  }
}

TEST(Schedule, AppliedToEveryGroupProportionally) {
  auto root = std::make_shared<torch::nn::Module>();
  root->register_parameter("w", torch::randn({3, 3}));
  root->register_parameter("b", torch::randn({3}));
  auto lora = root->register_module("lora_adapter", std::make_shared<torch::nn::Module>());
  lora->register_parameter("a", torch::randn({2, 3}));
  train::ParamGroupSettings settings;
  settings.base_lr = 3e-4;
  settings.lora_lr = 1e-3;
  auto groups = train::build_param_groups(*root, settings);
  auto opt = train::make_optimizer(groups, train::OptimizerSettings{});
  Schedule s = sched(ScheduleKind::Cosine);
  train::apply_lr_factor(*opt, groups, s.factor(60));
  ASSERT_EQ(opt->param_groups().size(), groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    // min + (peak - min) * 0.5 * (1 + cos(pi/2)) with min = 0.1 * peak: 0.55 * peak.
    const double peak = groups[i].lr;
    EXPECT_NEAR(opt->param_groups()[i].options().get_lr(), 0.1 * peak + 0.9 * peak * 0.5, 1e-15) << groups[i].name;
  }
  EXPECT_NEAR(opt->param_groups()[0].options().get_lr(), 5.5e-4, 1e-15);  // lora: 0.55 * 1e-3
}

}  // namespace
}  // namespace memtx::test
