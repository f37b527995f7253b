// model/model_weights.hpp: a model's parameters and buffers as named tensors for model.safetensors, in the
// save precision, and their strict validation and loading (the tensor level of model/model_file.hpp).
// An adapter model (model.base_model_name set, model.freeze_base_model true) stores only what the base folder does
// not give: its memory sublayers, LoRA adapters and any unfrozen tensor; the frozen base weights are read from
// the base folder whenever the model is built (model/adapter.hpp), so a checkpoint of a LoRA run over a 1.5B
// model holds megabytes, not gigabytes.
//   save: every floating tensor cast to training.save_precision (fp32 -> F32, fp16 -> F16, bf16 -> BF16), or
//         kept in its own dtype when none is given; integer/bool buffers as they are. Names are the module's
//         (layers.0.attn.q_proj.weight, ...).
//   load: the file must hold exactly the model's names, with the same shapes (floating stays floating,
//         other dtypes must match) -> otherwise Error(Io) naming the tensor and the file; values are copied
//         into the model's tensors, cast back to each one's own dtype and device.
#pragma once
#include <torch/torch.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "memtx/export.h"

namespace memtx {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// "fp32" | "fp16" | "bf16" -> dtype; Error(Config) naming training.save_precision otherwise.
MEMTX_API torch::ScalarType save_precision_dtype(const std::string& precision);

// Parameters, then buffers (recursively), detached, floating ones cast to dtype (nullopt: each keeps its own).
MEMTX_API NamedTensors model_tensors_for_save(const torch::nn::Module& model, std::optional<torch::ScalarType> dtype);

// model_tensors_for_save with quantised memory banks as codes and scales (model/packed_memory.hpp): what a saved
// model (final_model/, memtx_model_save) holds. Checkpoints keep the float tensors.
MEMTX_API NamedTensors model_tensors_for_export(const torch::nn::Module& model,
                                                std::optional<torch::ScalarType> dtype);

// The metadata a model file carries beyond format and version: "base_model_fingerprint" for an adapter model
// with a frozen base (its files hold no base weights, so they are only right over the same base folder).
MEMTX_API std::map<std::string, std::string> model_file_metadata(const torch::nn::Module& model);
// Error(Config) naming origin and the base folder when the file's base fingerprint differs from the model's
// (the folder model.base_model_name names has other files now); files without one are accepted.
MEMTX_API void check_model_file_metadata(const torch::nn::Module& model, const std::map<std::string, std::string>& metadata,
                                         const std::string& origin);

// Validation only (packed memory banks are unpacked first); origin names the file.
MEMTX_API void check_model_tensors(const torch::nn::Module& model, const NamedTensors& tensors,
                                   const std::string& origin);
// check_model_tensors, then copies every tensor into the model (no autograd).
MEMTX_API void load_model_tensors(torch::nn::Module& model, const NamedTensors& tensors, const std::string& origin);

}  // namespace memtx
