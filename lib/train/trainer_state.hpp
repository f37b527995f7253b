// train/trainer_state.hpp: trainer_state.json, the part of a checkpoint that is not tensors:
//   {"format": "memtx-trainer-state-1", "memtx_version": "0.1.0", "step": 120, "epoch": 1,
//    "data_cursor": {...caller's JSON object...}, "scheduler": {"step": 120},
//    "best_metric": 2.31 | null, "best_checkpoint": "checkpoint-100" | null,
//    "evals_without_improvement": 0, "tokens_seen": 245760, "skipped_steps": 0,
//    "rng": {"cpu": "<hex of torch's default CPU generator state>", "cuda": "<hex, the CUDA generator's state>"},
//    "loss_scale": {"scale": 65536.0, "good_steps": 12} | null,
//    "files": {"config.yaml": {"bytes": 1234, "fnv1a64w": "<16 hex>"}, "model.safetensors": {...}, ...}}
// "rng.cuda" is there when CUDA was available at save time; "loss_scale" is the fp16 dynamic loss scaler's
// state (null without fp16), so a resumed fp16 run continues with the same scale. Checkpoints written before
// these fields existed load with neither.
// Parsing is strict: a missing or mistyped field, malformed JSON or hex -> Error(Io) naming the file.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>

#include "memtx/export.h"
#include "io/file_util.hpp"
#include "train/trainer_state_json.hpp"

namespace memtx::train {

// The fields of trainer_state.json (train/trainer_state_json.hpp, which parses them without LibTorch) and the
// generators' states.
struct TrainerState : TrainerStateFields {
  torch::Tensor cpu_rng_state;   // uint8 state of torch's default CPU generator (save captures it)
  torch::Tensor cuda_rng_state;  // uint8 state of the default CUDA generator; undefined without CUDA
};

struct TrainerStateFile {
  TrainerState state;
  std::map<std::string, io::FileDigest> files;  // digests of the other checkpoint files, by file name
};

// The library version, "MAJOR.MINOR.PATCH".
MEMTX_API std::string memtx_version_string();

// Error(InvalidArgument) for a data_cursor that is not a JSON object, a non-finite best_metric, negative
// step/epoch, or an undefined RNG state.
MEMTX_API std::string trainer_state_to_json(const TrainerStateFile& file);
// origin names the file in messages.
MEMTX_API TrainerStateFile parse_trainer_state(const std::string& text, const std::string& origin);

// torch's default CPU generator: a copy of its state, and setting it (Error(Io) naming origin when the
// tensor is not a uint8 state of the generator's size).
MEMTX_API torch::Tensor capture_cpu_rng_state();
MEMTX_API void check_cpu_rng_state(const torch::Tensor& state, const std::string& origin);
MEMTX_API void restore_cpu_rng_state(const torch::Tensor& state, const std::string& origin);

// The default CUDA generator of the current device: its state (undefined when no CUDA device is visible), and
// setting it (a no-op for an undefined state; Error(Io) naming origin for a state CUDA does not take).
MEMTX_API torch::Tensor capture_cuda_rng_state();
MEMTX_API void restore_cuda_rng_state(const torch::Tensor& state, const std::string& origin);

}  // namespace memtx::train
