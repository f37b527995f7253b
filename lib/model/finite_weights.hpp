// model/finite_weights.hpp: weights that hold NaN or Inf are refused when a model is loaded (a model folder, a
// checkpoint, a weights file, a Hugging Face folder), naming the first such tensor, rather than loading and then
// generating nothing or evaluating to a NaN loss.
#pragma once
#include <torch/torch.h>

#include <string>

#include "memtx/export.h"
#include "model/model_weights.hpp"

namespace memtx {

// Error(Io) "<origin>: tensor '<name>' holds N NaN and M infinite values of K" for the first floating tensor that
// is not finite everywhere; other dtypes (quantised codes, integer buffers) are skipped.
MEMTX_API void check_finite_tensors(const NamedTensors& tensors, const std::string& origin);
// The same over a module's parameters and buffers.
MEMTX_API void check_finite_weights(const torch::nn::Module& model, const std::string& origin);

}  // namespace memtx
