// train/checkpoint.hpp: saving and loading a training checkpoint, a folder of four files and their manifest:
//   config.yaml            Config::to_yaml() of the run
//   model.safetensors      parameters + buffers by name, in training.save_precision (model/model_file.hpp)
//   optimizer.safetensors  per-parameter optimizer state by name, fp32 as kept (optimizer_state.hpp)
//   trainer_state.json     step, epoch, data cursor, scheduler step, best metric, RNG, memtx version and the
//                          size + digest of the three other files (trainer_state.hpp)
//   manifest.json          the size + digest of all four files, trainer_state.json included
//                          (model/folder_manifest.hpp); checkpoints written before it existed have none and are
//                          checked against trainer_state.json's record alone
// save: writes everything into "<output_dir>/checkpoint-<step>.tmp-<pid>", renames it to
// "checkpoint-<step>" (replacing an older folder of that name), updates the "latest" pointer atomically,
// syncing the folders so that a power loss cannot undo the renames (checkpoint_dir.hpp: sync_folder),
// rotates (training.save_total_limit most recent kept, never the best one when training.save_best_model),
// and removes temporaries that crashed processes left behind. A crash at any point leaves at worst a
// ".tmp-<pid>" folder, which is never taken for a checkpoint.
// load: validates everything before changing the model, the optimizer or the RNG:
//   a missing folder or file -> Error(NotFound) naming it
//   a file whose size or digest differs from the manifest (or the record), trainer_state.json malformed or its
//   step not the folder's number (checkpoint-<step>), a corrupt or truncated safetensors file, a tensor holding
//   NaN or Inf, an unparsable config.yaml, a tensor missing / unknown / of another shape
//   -> Error(Io) naming the file (and the tensor)
//   a model dimension key that differs between config.yaml and the current config -> Error(Config) naming it
//   an optimizer of another kind -> Error(Config) naming training.optimizer
#pragma once
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "memtx/config.hpp"
#include "memtx/export.h"
#include "train/param_groups.hpp"
#include "train/trainer_state.hpp"

namespace memtx::train {

struct CheckpointLoadOptions {
  bool restore_rng = true;      // set torch's default CPU generator to the saved state
  bool files_verified = false;  // the caller ran verify_checkpoint_files on the folder: digests are not redone
};

// The config keys that fix parameter names and shapes; load compares them (keys missing from either
// schema, e.g. of a plugin not loaded, are skipped).
MEMTX_API const std::vector<std::string>& model_structure_keys();
// Error(Config) naming the first structure key whose value differs (then the memory layout, the memory
// sublayers' shape keys and LoRA's, where the models have them); origin names the saved config file.
MEMTX_API void check_config_compatible(const Config& saved, const Config& current, const std::string& origin);
// The keys a training run reads from its own config (not from the model's): the device to train on;
// training.* keys are always the run's.
MEMTX_API const std::vector<std::string>& run_config_keys();
// A model built from one config (e.g. loaded by train --init-from) trained with another: every model,
// attention, memory and infini_attention key outside run_config_keys() must have the same value in both, or
// the run's setting would be silently ignored. Error(Config) naming each key that differs and both values.
MEMTX_API void check_run_matches_model(const Config& model_config, const Config& run_config);

// Returns the checkpoint's final path. state.cpu_rng_state and state.memtx_version are filled in by save.
// Error(InvalidArgument) for a bad state (see trainer_state_to_json), Error(Io) when writing fails (a full disk,
// a file size limit, ...): the temporary folder is removed, "latest" is left as it was, and the message reads
// "checkpoint-<step> was not saved (the latest complete checkpoint is still checkpoint-<n>): <file>: <reason>".
MEMTX_API std::string save_checkpoint(const std::string& output_dir, const Config& config,
                                      const torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
                                      const std::vector<ParamGroup>& groups, const TrainerState& state);

// The first checks of load: the four files exist (Error(NotFound)), each matches manifest.json (or, in a
// checkpoint without one, trainer_state.json's record; optimizer.safetensors only with_optimizer), and
// trainer_state.json parses with the step of the folder's name. Returns the parsed trainer_state.json.
MEMTX_API TrainerStateFile verify_checkpoint_files(const std::string& dir, bool with_optimizer);

// optimizer may be null (weights only: optimizer.safetensors must exist but is not read). groups are the
// optimizer's (ignored without one). Returns the saved trainer state.
MEMTX_API TrainerState load_checkpoint(const std::string& dir, const Config& config, torch::nn::Module& model,
                                       torch::optim::Optimizer* optimizer, const std::vector<ParamGroup>& groups,
                                       const CheckpointLoadOptions& options = {});

// training.resume_from_checkpoint: latest (train/checkpoint_resume.cpp). Loads the newest complete checkpoint of
// output_dir that passes every check of load_checkpoint; one refused as damaged (Error(Io) or Error(NotFound):
// corrupt, truncated, files missing) is skipped for the next older one, and on_skip(path, reason) is told. Other
// errors (a config that does not match) are thrown as they are. Error(NotFound) when none loads, naming each
// checkpoint skipped and why.
struct ResumedCheckpoint {
  std::string dir;
  TrainerState state;
};
using CheckpointSkipped = std::function<void(const std::string& path, const std::string& reason)>;
MEMTX_API ResumedCheckpoint load_latest_checkpoint(const std::string& output_dir, const Config& config,
                                                   torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                                                   const std::vector<ParamGroup>& groups,
                                                   const CheckpointSkipped& on_skip = {});

}  // namespace memtx::train
