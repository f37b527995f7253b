// tests/gpu/training_cuda_test.cpp: the trainer on CUDA, on the built-in associative recall data
// (tests/train/trainer_support.hpp): a bf16 run learns (the loss falls by a clear margin, the master weights stay
// float32 on the GPU); an fp16 run whose loss scale has been halved by gradient overflows is stopped after a
// checkpoint and resumed: the checkpoint's trainer_state.json holds the scale, and the resumed run overflows (or
// not) at the same steps with the same scale and gives the uninterrupted run's losses (a scale reset to 2^16 would
// overflow again and drop an update); an fp32 run with dropout resumes exactly (the CUDA generator is restored);
// training.num_gpus 0 trains a CUDA-built model on the CPU.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "gpu_support.hpp"
#include "train/trainer_support.hpp"

namespace memtx::test::gpu {
namespace {

namespace fs = std::filesystem;

TEST(TrainingCuda, Bf16RunOnTheGpuLearnsTheRecallTask) {
  MEMTX_REQUIRE_CUDA();
  ScratchDir dir("gpu_bf16");
  const auto config = trainer_config(dir.path(), {"model.device=cuda", "training.num_gpus=1",
                                                  "training.mixed_precision=bf16", "training.max_steps=40",
                                                  "training.eval_steps=20", "training.save_steps=40",
                                                  "training.logging_steps=5"});
  Transformer model(nullptr);
  const auto report = run_training(config, {}, &model);
  ASSERT_EQ(report.status, "completed") << report.error;
  EXPECT_EQ(report.precision, "bf16");
  EXPECT_NE(report.device.find("cuda"), std::string::npos) << report.device;
  const auto losses = train_losses(report.metrics_file);
  ASSERT_EQ(losses.size(), 8u);
  for (const auto& [step, loss] : losses) EXPECT_TRUE(std::isfinite(loss)) << "step " << step;
  const double first = losses.begin()->second, last = losses.rbegin()->second;
  std::cout << "[gpu] bf16 training: mean loss of steps 1-5 " << first << ", of steps 36-40 " << last << "\n";
  EXPECT_LT(last, first - 1.0) << "the loss falls by at least 1 nat in 40 steps, as in fp32 on the CPU";
  ASSERT_TRUE(report.best_eval_loss.has_value());
  EXPECT_LT(*report.best_eval_loss, std::log(259.0));
  // Autocast computes in bf16; the weights the optimizer updates stay float32 on the GPU.
  for (const auto& p : model->named_parameters()) {
    EXPECT_TRUE(p.value().device().is_cuda()) << p.key();
    EXPECT_EQ(p.value().scalar_type(), torch::kFloat32) << p.key();
    EXPECT_TRUE(all_finite(p.value())) << p.key();
  }
}

// One fp16 run: the loss of every step (progress events) and the trainer's fp16 overflow lines by step
// ("step N: fp16 gradient overflow; update skipped, loss scale now S").
struct Fp16Run {
  train::TrainReport report;
  std::map<int64_t, double> losses;
  std::map<int64_t, std::string> overflows;
};

Fp16Run fp16_run(const Config& config, const std::function<bool(const train::TrainProgress&)>& stop = {}) {
  Fp16Run run;
  train::TrainHooks hooks;
  hooks.on_progress = [&run, &stop](const train::TrainProgress& p) {
    if (p.event == train::TrainEvent::Step) run.losses[p.step] = p.loss;
    return stop ? stop(p) : false;
  };
  hooks.log = [&run](const std::string& line) {
    if (line.find("fp16 gradient overflow") == std::string::npos) return;
    long long step = 0;
    if (std::sscanf(line.c_str(), "step %lld:", &step) == 1) run.overflows[step] = line;
  };
  try {
    run.report = run_training(config, hooks);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "fp16 training failed: " << e.what();
  }
  return run;
}

std::map<int64_t, std::string> after(const std::map<int64_t, std::string>& events, int64_t step) {
  return {events.upper_bound(step), events.end()};
}

std::string describe(const std::map<int64_t, std::string>& events) {
  std::ostringstream out;
  for (const auto& [step, line] : events) out << "\n  " << line;
  return events.empty() ? " none" : out.str();
}

constexpr int64_t kSteps = 12, kStopAt = 6;

// 1 sequence of 8 tokens per step: the scaled loss's gradient per target token is 2^16 / 8 = 8192 on the logits,
// and the gradient of the final hidden states (an fp16 matmul with the tied embeddings, weights N(0, init_std))
// reaches about 8192 * 1.4 * init_std per element, and its largest element about 35000 * init_std: past fp16's
// 65504 for init_std of a few, so the first steps overflow and halve the scale until it fits (two halvings near
// init_std 4). Blocks without MLPs keep the forward pass within fp16 at such weights, and learning-rate steps of
// 3e-3 next to them keep the gradients about that large for the whole run.
Config fp16_config(const std::string& dir, const std::string& init_std, std::vector<std::string> more = {}) {
  std::vector<std::string> o = {"model.device=cuda",
                                "training.num_gpus=1",
                                "training.mixed_precision=fp16",
                                "training.batch_size=1",
                                "training.gradient_accumulation_steps=1",
                                "training.max_length=8",
                                "training.max_steps=" + std::to_string(kSteps),
                                "training.save_steps=" + std::to_string(kStopAt),
                                "training.eval_split=null",
                                "training.on_nonfinite_loss=skip",
                                "training.max_skipped_steps=" + std::to_string(kSteps),
                                "model.use_mlp=false",
                                "model.init_std=" + init_std};
  o.insert(o.end(), more.begin(), more.end());
  return trainer_config(dir, o);
}

TEST(TrainingCuda, Fp16LossScaleSurvivesCheckpointAndResume) {
  MEMTX_REQUIRE_CUDA();
  ScratchDir dir("gpu_fp16_resume");
  // The smallest initialisation that halves the scale at least twice before the checkpoint (so that a scale
  // reset to 2^16 on resume overflows again), with no non-finite loss.
  std::string init_std;
  Fp16Run full;
  std::ostringstream tried;
  for (const char* candidate : {"3.0", "4.0", "6.0", "8.0", "12.0"}) {
    Fp16Run probe = fp16_run(fp16_config(dir / (std::string("probe_") + candidate), candidate));
    const auto early = std::distance(probe.overflows.begin(), probe.overflows.upper_bound(kStopAt));
    tried << " init_std " << candidate << ": status " << probe.report.status << ", " << early
          << " overflows in steps 1-" << kStopAt << ", " << probe.report.skipped_steps << " non-finite steps;";
    if (probe.report.status == "completed" && probe.report.steps == kSteps && probe.report.skipped_steps == 0 &&
        early >= 2) {
      init_std = candidate;
      full = std::move(probe);
      break;
    }
  }
  ASSERT_FALSE(init_std.empty()) << "no initialisation provoked two fp16 overflows before step " << kStopAt
                                 << " (the test would not see a lost loss scale):" << tried.str();
  EXPECT_EQ(full.report.precision, "fp16");
  ASSERT_EQ(full.losses.size(), static_cast<size_t>(kSteps));
  std::cout << "[gpu] fp16 init_std " << init_std << ", overflows of the uninterrupted run:" << describe(full.overflows)
            << "\n";

  // The same run stopped after step kStopAt (its checkpoint is written on stopping) ...
  Fp16Run first = fp16_run(fp16_config(dir / "parts", init_std), [](const train::TrainProgress& p) {
    return p.event == train::TrainEvent::Step && p.step == kStopAt;
  });
  ASSERT_EQ(first.report.status, "cancelled") << first.report.error;
  ASSERT_EQ(first.report.steps, kStopAt);
  const std::string checkpoint = dir / ("parts/checkpoint-" + std::to_string(kStopAt));
  ASSERT_TRUE(fs::exists(checkpoint));
  EXPECT_EQ(first.overflows, (std::map<int64_t, std::string>(full.overflows.begin(),
                                                               full.overflows.upper_bound(kStopAt))))
      << "the first part is the uninterrupted run's first steps";
  ASSERT_FALSE(first.overflows.empty());
  // The scale at the checkpoint: 2^16 halved once per overflow so far (no growth within 2000 steps).
  const double scale_at_checkpoint = 65536.0 / static_cast<double>(int64_t{1} << first.overflows.size());
  {
    std::ifstream in(checkpoint + "/trainer_state.json");
    std::stringstream text;
    text << in.rdbuf();
    const auto state = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    // trainer_state.json records the scaler: {"scale": S, "good_steps": finite steps since the last overflow}.
    ASSERT_TRUE(state.is_object() && state.contains("loss_scale") && state["loss_scale"].is_object())
        << checkpoint << "/trainer_state.json has no loss_scale object: " << text.str();
    EXPECT_EQ(state["loss_scale"].value("scale", -1.0), scale_at_checkpoint) << "trainer_state.json loss_scale.scale";
    EXPECT_EQ(state["loss_scale"].value("good_steps", int64_t{-1}), kStopAt - first.overflows.rbegin()->first)
        << "trainer_state.json loss_scale.good_steps";
  }

  // ... then resumed from "latest" by a fresh start (a new model with other initial weights).
  Fp16Run second = fp16_run(
      fp16_config(dir / "parts", init_std, {"training.resume_from_checkpoint=latest", "model.seed=99"}));
  ASSERT_EQ(second.report.status, "completed") << second.report.error;
  ASSERT_EQ(second.report.steps, kSteps);
  EXPECT_EQ(second.overflows, after(full.overflows, kStopAt))
      << "after the resume at step " << kStopAt << " (loss scale " << scale_at_checkpoint
      << ") the overflows differ from the uninterrupted run's: the loss scale did not survive the checkpoint."
      << "\nresumed run:" << describe(second.overflows) << "\nuninterrupted run:" << describe(after(full.overflows, kStopAt));
  ASSERT_EQ(second.losses.size(), static_cast<size_t>(kSteps - kStopAt));
  for (const auto& [step, loss] : second.losses) {
    ASSERT_TRUE(full.losses.count(step)) << "step " << step;
    // fp16 kernels may reduce in another order from run to run: equal up to 1e-3 relative.
    EXPECT_NEAR(loss, full.losses.at(step), 1e-3 * std::max(1.0, std::abs(full.losses.at(step)))) << "step " << step;
  }
}

// Residual dropout draws from the CUDA generator: a resumed fp32 run (TF32 off) reproduces the uninterrupted
// run's losses only when the checkpoint restores that generator (trainer_state.json "rng.cuda").
TEST(TrainingCuda, ResumedFp32RunWithDropoutReproducesTheUninterruptedLosses) {
  MEMTX_REQUIRE_CUDA();
  Fp32Exact fp32;
  ScratchDir dir("gpu_fp32_resume");
  const std::vector<std::string> common = {"model.device=cuda", "training.num_gpus=1", "training.mixed_precision=no",
                                           "model.dropout=0.1", "training.max_steps=10", "training.save_steps=3"};
  const auto full = run_training(trainer_config(dir / "full", common));
  ASSERT_EQ(full.status, "completed") << full.error;
  const auto expected = train_losses(full.metrics_file);
  ASSERT_EQ(expected.size(), 10u);

  auto stop_at_4 = train::TrainHooks();
  stop_at_4.on_progress = [](const train::TrainProgress& p) { return p.event == train::TrainEvent::Step && p.step == 4; };
  const auto first = run_training(trainer_config(dir / "parts", common), stop_at_4);
  ASSERT_EQ(first.status, "cancelled") << first.error;
  ASSERT_TRUE(fs::exists(dir / "parts/checkpoint-4"));

  auto resumed = common;
  resumed.push_back("training.resume_from_checkpoint=latest");
  resumed.push_back("model.seed=99");
  const auto second = run_training(trainer_config(dir / "parts", resumed));
  ASSERT_EQ(second.status, "completed") << second.error;
  const auto got = train_losses(second.metrics_file);
  ASSERT_EQ(got.size(), 10u) << "the resumed metrics file keeps steps 1-4 and adds 5-10";
  for (const auto& [step, loss] : expected)
    EXPECT_NEAR(got.at(step), loss, 1e-4 * std::max(1.0, std::abs(loss))) << "step " << step;
}

// training.num_gpus 0 means the CPU (schema), also for a model built with model.device=cuda: the trainer moves it.
TEST(TrainingCuda, NumGpusZeroTrainsACudaModelOnTheCpu) {
  MEMTX_REQUIRE_CUDA();
  ScratchDir dir("gpu_num_gpus_0");
  const auto config = trainer_config(dir.path(), {"model.device=cuda", "training.num_gpus=0",
                                                  "training.max_steps=3", "training.eval_split=null"});
  Transformer model(config, plugin_registry());
  ASSERT_TRUE(model->parameters().front().device().is_cuda());
  auto tokenizer = byte_tokenizer();
  train::TrainReport report;
  try {
    train::train(*model, config, *tokenizer, {}, report);
  } catch (const std::exception& e) {
    FAIL() << "training a CUDA-built model with training.num_gpus 0 failed: " << e.what();
  }
  EXPECT_EQ(report.status, "completed");
  EXPECT_EQ(report.device, "cpu");
  EXPECT_TRUE(std::isfinite(report.final_loss));
  for (const auto& p : model->named_parameters()) EXPECT_TRUE(p.value().device().is_cpu()) << p.key();
}

}  // namespace
}  // namespace memtx::test::gpu
