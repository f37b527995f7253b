// train/trainer_state_json.hpp: the JSON side of trainer_state.json (train/trainer_state.hpp describes the file),
// without LibTorch: the fields that are not tensors, the RNG states as raw bytes, and the strict parser. The
// fuzz target (fuzz/) drives this parser; train/trainer_state.cpp turns the RNG bytes into tensors.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "io/file_util.hpp"

namespace memtx::train {

constexpr const char* kTrainerStateFormat = "memtx-trainer-state-1";  // the "format" field
constexpr const char* kTrainerStateHashKey = "fnv1a64w";              // the digest's field in "files"

// The fp16 loss scaler's position (train/precision.hpp).
struct LossScaleState {
  double scale = 65536.0;  // finite, > 0
  int64_t good_steps = 0;  // finite steps since the last change of scale, >= 0
};

// Everything of a trainer state but the RNG states.
struct TrainerStateFields {
  int64_t step = 0;                   // optimizer steps completed
  int64_t epoch = 0;                  // passes over the data completed
  std::string data_cursor = "{}";     // the data pipeline's position: the text of a JSON object
  int64_t scheduler_step = 0;         // the learning-rate schedule's position (the next update's step index)
  std::optional<double> best_metric;  // best evaluation loss so far (finite), none before the first evaluation
  std::string best_checkpoint;        // folder name of the best checkpoint ("checkpoint-100"), "" when none
  int64_t evals_without_improvement = 0;  // early-stopping patience counter
  int64_t tokens_seen = 0;            // input tokens trained on so far
  int64_t skipped_steps = 0;          // steps whose update was dropped for a non-finite loss or gradient
  std::string memtx_version;          // written by save (the library's version), read back by load
  std::optional<LossScaleState> loss_scale;  // fp16 runs only
};

// trainer_state.json as parsed.
struct TrainerStateJson {
  TrainerStateFields fields;
  std::string cpu_rng;                  // the bytes rng.cpu spells in hex
  std::optional<std::string> cuda_rng;  // rng.cuda's bytes, when present
  std::map<std::string, io::FileDigest> files;  // digests of the other checkpoint files, by file name
};

// Strict: malformed JSON, a missing or mistyped field, a negative counter, a non-finite number or malformed hex
// -> Error(Io) naming origin and the field.
TrainerStateJson parse_trainer_state_json(const std::string& text, const std::string& origin);

}  // namespace memtx::train
