// model/model_file.hpp: memtx model folders, the one place that reads and writes them:
//   config.yaml        Config::to_yaml() of the model
//   model.safetensors  its parameters and buffers by name (model/model_weights.hpp), quantised memory banks as
//                      codes and scales in a saved model (model/packed_memory.hpp); metadata "format": "memtx",
//                      "memtx_version", "save_precision" and, for an adapter over a frozen base,
//                      "base_model_fingerprint"
//   manifest.json      the size and digest of the two files (model/folder_manifest.hpp), written last; a folder
//                      without one (an older save) loads unchecked
// final_model/ of a training run and memtx_model_save write one; a training checkpoint is one with the optimizer
// state and trainer_state.json beside it (train/checkpoint.hpp, whose file names stay in train/checkpoint_dir.hpp),
// its manifest covering all four files.
// The file format itself is io/safetensors.hpp.
#pragma once
#include <torch/torch.h>

#include <string>

#include "io/safetensors.hpp"
#include "memtx/config.hpp"
#include "memtx/export.h"
#include "model/model_weights.hpp"

namespace memtx {

inline constexpr const char* kConfigFile = "config.yaml";
inline constexpr const char* kModelFile = "model.safetensors";

struct ModelFileOptions {
  // training.save_precision of the floating tensors, "fp32" | "fp16" | "bf16" (Error(Config) otherwise),
  // recorded as metadata "save_precision"; "" keeps each tensor's own dtype and records none.
  std::string precision = "fp32";
  // Quantised memory banks as codes and scales (model_tensors_for_export): a saved model. false keeps the float
  // banks (model_tensors_for_save): a checkpoint, whose optimizer updates the float master copy.
  bool pack_memory = true;
  // save_model_folder writes manifest.json over config.yaml and model.safetensors; false leaves that to the
  // caller (a checkpoint records its four files in one manifest).
  bool manifest = true;
};

// Writes the model's tensors to a model file at path (atomically, io::write_safetensors).
MEMTX_API void write_model_file(const std::string& path, const torch::nn::Module& model,
                                const ModelFileOptions& options = {});
// Creates dir when missing (Error(Io) naming it when that fails), then writes dir/model.safetensors,
// dir/config.yaml (config.to_yaml(), atomically) and, with options.manifest, dir/manifest.json.
MEMTX_API void save_model_folder(const std::string& dir, const torch::nn::Module& model, const Config& config,
                                 const ModelFileOptions& options = {});

// Reads a model file and checks it against the model (check_model_file_metadata, check_model_tensors, then
// check_finite_tensors) without changing the model: Error(NotFound) for a missing file, Error(Io) naming the file
// for a corrupt one, one whose tensors are not the model's or hold NaN / Inf (naming the tensor), Error(Config)
// for one saved over other base weights.
MEMTX_API io::SafetensorsFile read_model_file(const torch::nn::Module& model, const std::string& path);
// The same checks, then copies the file's tensors into the model; a file that fails them changes nothing.
MEMTX_API void load_model_file(torch::nn::Module& model, const std::string& path);
// Checks dir's manifest when it has one (verify_folder_manifest: Error(Io) naming a file whose digest differs),
// then load_model_file of dir/model.safetensors.
MEMTX_API void load_model_folder_weights(torch::nn::Module& model, const std::string& dir);

}  // namespace memtx
