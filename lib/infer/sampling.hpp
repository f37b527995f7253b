// infer/sampling.hpp: choosing the next token from a row of logits.
//   greedy (temperature == 0):  argmax_i z_i (the lowest index among ties)
//   otherwise:                  z <- z / temperature
//     top-k (k > 0):            keep the k largest logits (ties at the k-th value are all kept), the rest -inf
//     top-p (p < 1):            sort the remaining probabilities descending; keep the smallest prefix whose
//                               cumulative probability reaches p (at least one token), the rest -inf
//     sample from softmax(z) with the caller's generator (the same seed gives the same tokens).
#pragma once
#include <torch/torch.h>

#include <cstdint>

#include "memtx/export.h"

namespace memtx::infer {

struct SamplingOptions {
  double temperature = 1.0;  // 0 = greedy
  int64_t top_k = 0;         // 0 = off
  double top_p = 1.0;        // 1 = off
};

// Error(InvalidArgument) naming the option for temperature < 0 or non-finite, top_k < 0, top_p outside (0, 1].
MEMTX_API void check_sampling_options(const SamplingOptions& options);

// The filtered, temperature-scaled logits of one row [vocab] (float32): what sampling draws from.
MEMTX_API torch::Tensor filtered_logits(const torch::Tensor& logits, const SamplingOptions& options);

// One token id from logits [vocab].
MEMTX_API int64_t sample_token(const torch::Tensor& logits, const SamplingOptions& options, at::Generator& generator);

}  // namespace memtx::infer
