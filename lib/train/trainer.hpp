// train/trainer.hpp: the training loop behind memtx_train and `memtx-cli train`.
// One optimizer step:
//   1. take gradient_accumulation_steps micro-batches of batch_size windows (data/packing_iterator.hpp);
//   2. for each: logits under autocast (precision.hpp), loss_i = masked_lm_loss_sum_i / N where N counts the
//      target tokens of ALL the step's micro-batches (so k micro-batches == one batch of k*b rows exactly),
//      plus each variant's auxiliary loss / k, times the fp16 loss scale; backward;
//   3. non-finite loss or gradient: an fp16 overflow halves the scale and drops the update; otherwise it is
//      reported with the step and either stops the run (training.on_nonfinite_loss: stop) or drops the update
//      (skip; training.max_skipped_steps in a row stop the run);
//   4. clip the global gradient norm (training.max_grad_norm), set every group's lr = peak * f(step)
//      (schedule.hpp), optimizer step.
// A data-parallel run (the torchrun environment; train/data_parallel.hpp) sums the targets, losses and
// gradients over the ranks so the step is one process's with the global batch; with
// distributed_strategy: fsdp and fsdp_sharding_strategy: SHARD_GRAD_OP the gradients are reduce-scattered and
// the optimizer state sharded (train/sharded_optimizer.hpp).
// Around the steps: metrics every logging_steps (metrics_log.hpp), evaluation every eval_steps and at the end
// (loss, perplexity; best metric; early stopping with patience and threshold), checkpoints every save_steps, at
// the end and when stopped (checkpoint.hpp: atomic folders, rotation keeping the best), final_model/ at the end
// (written beside and renamed into place). Before anything else, training.output_dir is probed with a real write
// (output_dir.hpp): a folder that cannot be written is an Error(Io) before any data is read or step taken.
// Resuming (training.resume_from_checkpoint: a folder, or "latest") restores weights, optimizer, schedule,
// data position, RNG and counters, so the resumed run reproduces the uninterrupted one's losses on the CPU.
#pragma once
#include <torch/torch.h>

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "memtx/config.hpp"
#include "memtx/export.h"
#include "model/transformer.hpp"
#include "tokenizer/tokenizer.hpp"

namespace memtx::train {

enum class TrainEvent { Step = 0, Eval = 1, Checkpoint = 2, Done = 3 };  // = memtx_train_event

struct TrainProgress {
  TrainEvent event = TrainEvent::Step;
  int64_t step = 0;
  int64_t total_steps = 0;
  int64_t epoch = 0;
  int64_t tokens_seen = 0;
  double loss = 0;
  double learning_rate = 0;
  double grad_norm = 0;
  double tokens_per_second = 0;
  double eta_seconds = -1;
  double eval_loss = std::numeric_limits<double>::quiet_NaN();
  double elapsed_seconds = 0;
};

struct TrainHooks {
  std::function<bool(const TrainProgress&)> on_progress;  // returns true to stop (after a checkpoint)
  const std::atomic<bool>* cancel = nullptr;             // set from anywhere to stop (after a checkpoint)
  std::function<void(const std::string&)> log;            // one human-readable line per call
};

struct TrainReport {
  std::string status = "running";  // "completed", "early_stopped", "cancelled", "failed"
  int64_t steps = 0;
  int64_t epochs = 0;
  double final_loss = std::numeric_limits<double>::quiet_NaN();
  std::optional<double> best_eval_loss;
  std::string best_checkpoint, last_checkpoint, final_model, metrics_file;
  std::string device, precision;
  double tokens_per_second = 0;
  double seconds = 0;
  int64_t skipped_steps = 0;
  int64_t rank = 0, world_size = 1;     // this process's place in a data-parallel run (0 of 1 alone)
  int64_t optimizer_state_bytes = 0;    // the optimizer state this process holds at the end
  double gradient_reduction_seconds = 0;  // spent summing losses and gradients over the ranks after the backward
                                          // passes (waits for overlapped sums included)
  int64_t peak_rss_bytes = 0;             // this process's peak resident memory so far (Linux getrusage)
  int64_t gradient_buckets_overlapped = 0;  // ddp gradient buckets whose sum started inside a backward pass
  std::string error;  // the failure's message when status is "failed"
  std::string to_json() const;
};

// Everything a training run would refuse in its training.* settings, without data or a model: unsupported
// settings (log_to_wandb, num_gpus > 1) and keys set but without effect (model/setting_use.hpp). Error(Config).
MEMTX_API void check_training_config(const Config& config);
// Whether a data-parallel run shards its optimizer state (distributed_strategy fsdp with SHARD_GRAD_OP; ddp and
// NO_SHARD do not). Error(Config) for FULL_SHARD and HYBRID_SHARD, which shard the parameters too.
MEMTX_API bool shards_optimizer_state(const Config& config);

// Trains model in place. config: the run's configuration (its model keys must match the model's own:
// Error(Config) naming the first that differs). Fills report as it goes (also when it throws).
// Errors: Error(Config) for what check_training_config refuses, the data pipeline's errors,
// Error(Torch) naming the step for a non-finite loss with on_nonfinite_loss: stop.
MEMTX_API void train(TransformerImpl& model, const Config& config, const data::Tokenizer& tokenizer,
                     const TrainHooks& hooks, TrainReport& report);

}  // namespace memtx::train
