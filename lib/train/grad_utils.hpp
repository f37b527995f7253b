// train/grad_utils.hpp: global-norm gradient clipping and the non-finite gradient check.
//   norm = sqrt(sum over parameters with a gradient of ||g||_2^2)
//   clip (max_norm > 0 and norm > max_norm and norm finite): every g <- g * max_norm / (norm + 1e-6)
// (torch.nn.utils.clip_grad_norm_'s coefficient). max_norm = 0 (training.max_grad_norm = 0) only measures.
// A non-finite norm leaves the gradients untouched; find it with first_nonfinite_grad and skip the step.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "memtx/export.h"

namespace memtx::train {

// The sum of squares of the gradients this process holds -> the sum over every process holding a part of them
// (a sharded optimizer's ranks); empty: this process holds them all.
using GradNormReduction = std::function<double(double)>;

// Returns the global norm before clipping (0 when no parameter has a gradient). With over_ranks the norm is
// that of every rank's gradients together (over_ranks is then called on every rank, also one without any).
// Error(InvalidArgument) for max_norm < 0.
MEMTX_API double clip_grad_norm(const std::vector<std::pair<std::string, torch::Tensor>>& params, double max_norm,
                                const GradNormReduction& over_ranks = {});

// The name of the first parameter whose gradient holds a NaN or an Inf; nullopt when all are finite
// (parameters without a gradient are skipped). One device synchronisation for the whole list.
MEMTX_API std::optional<std::string> first_nonfinite_grad(
    const std::vector<std::pair<std::string, torch::Tensor>>& params);

}  // namespace memtx::train
