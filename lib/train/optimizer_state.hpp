// train/optimizer_state.hpp: the optimizer's per-parameter state as named tensors (for safetensors), keyed by
// parameter NAME so it survives a restart (torch keys its state by tensor address):
//   adamw/adam: "<param>.step" (I64, shape []), "<param>.exp_avg", "<param>.exp_avg_sq",
//               "<param>.max_exp_avg_sq" (only with amsgrad)
//   sgd:        "<param>.momentum_buffer" (only with momentum > 0)
// A parameter the optimizer has not stepped yet has no entry. Metadata: {"optimizer": kind}.
// Restoring is strict and validates every tensor before changing anything: a file of another optimizer
// kind -> Error(Config) naming training.optimizer; an unknown tensor name, a missing companion tensor, a shape
// or dtype mismatch, or a step < 1 -> Error(Io) naming the tensor and the origin (the file). After a
// restore, stepping gives bit-for-bit the parameters an uninterrupted run would have.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "memtx/export.h"
#include "train/param_groups.hpp"

namespace memtx::train {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// The state of every grouped parameter that has one. The tensors are the live state (detached, not copied):
// write them before the next step.
MEMTX_API NamedTensors optimizer_state_tensors(const torch::optim::Optimizer& optimizer,
                                               const std::vector<ParamGroup>& groups);
// Bytes of the state tensors above (what the optimizer holds for these groups).
MEMTX_API int64_t optimizer_state_bytes(const torch::optim::Optimizer& optimizer, const std::vector<ParamGroup>& groups);
// {"optimizer": "adamw"|"adam"|"sgd", "format": "memtx-optimizer-state-1"}.
MEMTX_API std::map<std::string, std::string> optimizer_state_metadata(const torch::optim::Optimizer& optimizer);

// Validates tensors (and metadata) against optimizer and groups without changing anything; throws as above.
MEMTX_API void check_optimizer_state(const torch::optim::Optimizer& optimizer, const std::vector<ParamGroup>& groups,
                                     const NamedTensors& tensors, const std::map<std::string, std::string>& metadata,
                                     const std::string& origin);
// check_optimizer_state, then replaces the state of every grouped parameter (parameters absent from tensors
// end with no state, as if never stepped). Tensors are copied to each parameter's device and dtype.
MEMTX_API void restore_optimizer_state(torch::optim::Optimizer& optimizer, const std::vector<ParamGroup>& groups,
                                       const NamedTensors& tensors, const std::map<std::string, std::string>& metadata,
                                       const std::string& origin);

}  // namespace memtx::train
