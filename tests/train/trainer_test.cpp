// The training loop: resume exactness, accumulation inside the loop, non-finite handling, early stopping,
// cancellation, best-checkpoint rotation, final model, and the settings it refuses.
#include <filesystem>

#include "train/checkpoint_dir.hpp"
#include "trainer_support.hpp"

namespace memtx::test {
namespace {

namespace fs = std::filesystem;

TEST(Trainer, ResumedRunReproducesTheUninterruptedLossesExactly) {
  ScratchDir dir("resume");
  // Dropout makes the RNG part of the state that must be restored.
  const std::vector<std::string> common = {"model.dropout=0.1", "training.max_steps=10", "training.save_steps=3"};
  auto full = trainer_config(dir / "full", common);
  const auto report = run_training(full);
  ASSERT_EQ(report.status, "completed");
  ASSERT_EQ(report.steps, 10);
  const auto expected = train_losses(report.metrics_file);
  ASSERT_EQ(expected.size(), 10u);

  // The same run stopped by the callback after step 4 (its checkpoint is written on stopping) ...
  auto interrupted = trainer_config(dir / "parts", common);
  train::TrainHooks stop_at_4;
  stop_at_4.on_progress = [](const train::TrainProgress& p) { return p.event == train::TrainEvent::Step && p.step == 4; };
  const auto first = run_training(interrupted, stop_at_4);
  ASSERT_EQ(first.status, "cancelled");
  ASSERT_EQ(first.steps, 4);
  ASSERT_TRUE(fs::exists(dir / "parts/checkpoint-4"));

  // ... then resumed from "latest" by a fresh process-like start (a new model with other initial weights).
  auto resumed = trainer_config(dir / "parts", {"model.dropout=0.1", "training.max_steps=10", "training.save_steps=3",
                                                "training.resume_from_checkpoint=latest", "model.seed=99"});
  const auto second = run_training(resumed);
  ASSERT_EQ(second.status, "completed");
  const auto got = train_losses(second.metrics_file);
  ASSERT_EQ(got.size(), 10u) << "the resumed metrics file keeps steps 1-4 and adds 5-10";
  for (const auto& [step, loss] : expected) EXPECT_EQ(got.at(step), loss) << "step " << step;
  EXPECT_EQ(second.best_eval_loss, report.best_eval_loss);
}

TEST(Trainer, AccumulatedMicroBatchesTrainLikeOneBatch) {
  ScratchDir dir("accum");
  Transformer a(nullptr), b(nullptr);
  run_training(trainer_config(dir / "a", {"training.batch_size=4", "training.gradient_accumulation_steps=1",
                                          "training.max_steps=3", "training.eval_split=null"}),
               {}, &a);
  run_training(trainer_config(dir / "b", {"training.batch_size=1", "training.gradient_accumulation_steps=4",
                                          "training.max_steps=3", "training.eval_split=null"}),
               {}, &b);
  const auto la = train_losses(dir / "a/metrics.jsonl");
  const auto lb = train_losses(dir / "b/metrics.jsonl");
  ASSERT_EQ(la.size(), 3u);
  for (const auto& [step, loss] : la) EXPECT_NEAR(lb.at(step), loss, 1e-5) << "step " << step;
  auto pb = b->named_parameters();
  for (const auto& item : a->named_parameters())
    EXPECT_LE(max_abs_diff(item.value(), pb[item.key()]), 2e-5) << item.key();
}

TEST(Trainer, LossDecreasesOnTheRecallTask) {
  ScratchDir dir("learns");
  const auto report = run_training(trainer_config(dir.path(), {"training.max_steps=40", "training.eval_steps=20",
                                                               "training.save_steps=40", "training.logging_steps=5"}));
  const auto losses = train_losses(report.metrics_file);
  ASSERT_EQ(losses.size(), 8u);
  EXPECT_LT(losses.rbegin()->second, losses.begin()->second - 1.0);
  ASSERT_TRUE(report.best_eval_loss.has_value());
  EXPECT_LT(*report.best_eval_loss, std::log(259.0));
}

// Poisons one weight after step 2, so step 3's loss is NaN.
train::TrainHooks poison_after_step_2(Transformer& model) {
  train::TrainHooks hooks;
  hooks.on_progress = [&model](const train::TrainProgress& p) {
    if (p.event == train::TrainEvent::Step && p.step == 2) {
      torch::NoGradGuard no_grad;
      model->norm->named_parameters()["weight"].fill_(std::numeric_limits<float>::quiet_NaN());
    }
    return false;
  };
  return hooks;
}

TEST(Trainer, NonFiniteLossStopsTheRunNamingTheStep) {
  ScratchDir dir("nan_stop");
  auto config = trainer_config(dir.path(), {"training.eval_split=null"});
  Transformer model(config, plugin_registry());
  auto tokenizer = byte_tokenizer();
  train::TrainReport report;
  const auto hooks = poison_after_step_2(model);
  try {
    train::train(*model, config, *tokenizer, hooks, report);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Torch);
    EXPECT_NE(std::string(e.what()).find("step 3: the loss is NaN"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("on_nonfinite_loss"), std::string::npos) << e.what();
  }
  EXPECT_EQ(report.status, "failed");
  int nonfinite_events = 0;
  for (const auto& r : read_metrics(dir / "metrics.jsonl")) nonfinite_events += r["type"] == "event" && r["event"] == "nonfinite";
  EXPECT_EQ(nonfinite_events, 1);
}

TEST(Trainer, SkipModeDropsUpdatesThenStopsAfterTheLimit) {
  ScratchDir dir("nan_skip");
  auto config = trainer_config(dir.path(), {"training.eval_split=null", "training.on_nonfinite_loss=skip",
                                            "training.max_skipped_steps=3", "training.max_steps=20"});
  Transformer model(config, plugin_registry());
  auto tokenizer = byte_tokenizer();
  train::TrainReport report;
  const auto hooks = poison_after_step_2(model);
  const auto before = model->layers->named_parameters()["0.mlp.up_proj.weight"].clone();
  try {
    train::train(*model, config, *tokenizer, hooks, report);
    FAIL() << "expected the run to stop after 3 skipped steps";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("step 5: 3 steps in a row"), std::string::npos) << e.what();
  }
  EXPECT_EQ(report.skipped_steps, 3);
  // The skipped steps changed no weight: the one weight checked holds its value after step 2 (not NaN).
  EXPECT_TRUE(torch::isfinite(model->layers->named_parameters()["0.mlp.up_proj.weight"]).all().item<bool>());
  EXPECT_FALSE(torch::equal(before, model->layers->named_parameters()["0.mlp.up_proj.weight"]));
}

TEST(Trainer, EarlyStoppingAfterPatienceEvaluationsWithoutImprovement) {
  ScratchDir dir("early");
  // lr 0: the evaluation loss never improves after the first evaluation.
  const auto report = run_training(trainer_config(
      dir.path(), {"training.base_model_lr=0", "training.max_steps=100", "training.eval_steps=2",
                   "training.save_steps=100", "training.early_stopping=true", "training.early_stopping_patience=2"}));
  EXPECT_EQ(report.status, "early_stopped");
  EXPECT_EQ(report.steps, 6);  // evals at 2 (best), 4 and 6 (no improvement: patience 2 reached)
  EXPECT_EQ(report.best_checkpoint, dir / "checkpoint-2");
  EXPECT_TRUE(fs::exists(dir / "final_model/model.safetensors"));
}

TEST(Trainer, CancelFlagStopsAfterWritingACheckpoint) {
  ScratchDir dir("cancel");
  std::atomic<bool> cancel{false};
  train::TrainHooks hooks;
  hooks.cancel = &cancel;
  hooks.on_progress = [&cancel](const train::TrainProgress& p) {
    if (p.step == 3) cancel = true;
    return false;
  };
  const auto report = run_training(trainer_config(dir.path(), {"training.max_steps=50", "training.save_steps=50"}), hooks);
  EXPECT_EQ(report.status, "cancelled");
  EXPECT_EQ(report.steps, 3);
  EXPECT_TRUE(train::is_complete_checkpoint(dir / "checkpoint-3"));
  EXPECT_FALSE(fs::exists(dir / "final_model"));
}

TEST(Trainer, RotationKeepsTheBestCheckpoint) {
  ScratchDir dir("rotate");
  // Evaluations at 2, 4, 6 and 8 with lr 0: the first evaluation stays the best.
  const auto report = run_training(trainer_config(
      dir.path(), {"training.base_model_lr=0", "training.eval_steps=2", "training.save_steps=2",
                   "training.save_total_limit=1", "training.save_best_model=true"}));
  EXPECT_EQ(report.best_checkpoint, dir / "checkpoint-2");
  std::vector<std::string> names;
  for (const auto& e : train::list_checkpoints(dir.path())) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"checkpoint-2", "checkpoint-8"}));
}

TEST(Trainer, RefusesSettingsItCannotHonour) {
  ScratchDir dir("refuse");
  auto expect_config_error = [&](const std::string& override_text, const std::string& fragment) {
    try {
      run_training(trainer_config(dir.path(), {override_text}));
      ADD_FAILURE() << override_text << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::Config) << e.what();
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_config_error("training.log_to_wandb=true", "training.log_to_wandb");
  expect_config_error("training.num_gpus=2", "training.num_gpus: 2 asks for 2 processes");  // alone: no WORLD_SIZE
  expect_config_error("training.distributed_strategy=fsdp", "fsdp_sharding_strategy: FULL_SHARD shards the parameters");
  try {  // the two fsdp strategies memtx implements train in one process as it would alone
    run_training(trainer_config(dir / "grad_op", {"training.distributed_strategy=fsdp",
                                                  "training.fsdp_sharding_strategy=SHARD_GRAD_OP"}));
    run_training(trainer_config(dir / "no_shard", {"training.distributed_strategy=fsdp",
                                                   "training.fsdp_sharding_strategy=NO_SHARD"}));
  } catch (const Error& e) {
    ADD_FAILURE() << e.what();
  }
  try {
    run_training(trainer_config(dir.path(), {"training.eval_split=null", "training.early_stopping=true"}));
    ADD_FAILURE() << "early stopping without evaluation data was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("early_stopping"), std::string::npos) << e.what();
  }
  // A run config whose model differs from the model's own.
  auto config = trainer_config(dir.path());
  Transformer model(trainer_config(dir.path(), {"model.hidden_dim=48"}), plugin_registry());
  train::TrainReport report;
  auto tokenizer = byte_tokenizer();
  EXPECT_THROW(train::train(*model, config, *tokenizer, {}, report), Error);
}

TEST(Trainer, GradientCheckpointingTrainsTheSameAsWithout) {
  ScratchDir dir("gc");
  const std::vector<std::string> common = {"model.dropout=0.1", "training.max_steps=3", "training.eval_split=null"};
  expect_gradient_checkpointing_changes_nothing(dir, common);
}

}  // namespace
}  // namespace memtx::test

namespace memtx::test {
namespace {

TEST(Trainer, InfiniModelTrainsInSegmentsAndLogsItsGates) {
  ScratchDir dir("infini");
  const auto report = run_training(trainer_config(
      dir.path(), {"attention.attention_list=[causal, infini]", "infini_attention.segment_length=8",
                   "infini_attention.logging=true", "infini_attention.logging_interval=2", "training.max_steps=12",
                   "training.eval_steps=12", "training.save_steps=12", "training.gradient_checkpointing=true"}));
  ASSERT_EQ(report.status, "completed");
  const auto losses = train_losses(report.metrics_file);
  EXPECT_LT(losses.rbegin()->second, losses.begin()->second);
  int layer_records = 0;
  for (const auto& r : read_metrics(report.metrics_file)) {
    if (r["type"] != "layers") continue;
    ++layer_records;
    EXPECT_TRUE(r["values"].contains("layers.1.attn.gate.head0")) << r.dump();
    const double gate = r["values"]["layers.1.attn.gate.head0"].get<double>();
    EXPECT_GT(gate, 0.0);
    EXPECT_LT(gate, 1.0);
  }
  EXPECT_EQ(layer_records, 6);
}

}  // namespace
}  // namespace memtx::test
