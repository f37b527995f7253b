// infer/sampling.hpp: choosing the next token from a row of logits z. The steps, in this order (the order of
// Hugging Face transformers' logits processors and warpers):
//   1. repetition penalty (p != 1; also when greedy), for each id i seen so far (SeenTokens):
//                             z_i <- z_i / p  if z_i > 0,   z_i <- z_i * p  otherwise   (CTRL, Keskar et al. 2019)
//   2. greedy (temperature == 0):  argmax_i z_i (the lowest index among ties); the steps below are skipped
//      otherwise:                  z <- z / temperature
//   3. top-k (k > 0):         keep the k largest logits (ties at the k-th value are all kept), the rest -inf
//   4. top-p (p < 1):         sort the remaining probabilities descending; keep the smallest prefix whose
//                             cumulative probability reaches p (at least one token), the rest -inf
//   5. min-p (m > 0):         with q = softmax(z), drop (-inf) every i with q_i < m * max_j q_j (the top token
//                             always stays)
//   6. sample from softmax(z) with the caller's generator (the same seed gives the same tokens).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "memtx/export.h"

namespace memtx::infer {

struct SamplingOptions {
  double temperature = 1.0;         // 0 = greedy
  int64_t top_k = 0;                // 0 = off
  double top_p = 1.0;               // 1 = off
  double min_p = 0.0;               // 0 = off
  double repetition_penalty = 1.0;  // 1 = off
};

// The distinct ids of a sequence (the repetition penalty's "seen" set): a mask over the vocabulary plus the
// list of ids in the order first seen. Ids outside [0, vocab) are ignored.
class MEMTX_API SeenTokens {
 public:
  explicit SeenTokens(int64_t vocab = 0) : mask_(static_cast<size_t>(vocab), 0) {}
  void add(int64_t id);
  void add(const std::vector<int64_t>& ids);
  void clear();
  const std::vector<int64_t>& ids() const { return ids_; }

 private:
  std::vector<uint8_t> mask_;
  std::vector<int64_t> ids_;
};

// Error(InvalidArgument) naming the option for temperature < 0 or non-finite, top_k < 0, top_p outside (0, 1],
// min_p outside [0, 1], repetition_penalty not finite and > 0.
MEMTX_API void check_sampling_options(const SamplingOptions& options);

// Step 1: logits [vocab] (float32) with the penalty applied to the ids of seen below the row's length.
MEMTX_API torch::Tensor penalize_repetition(const torch::Tensor& logits, const std::vector<int64_t>& seen,
                                            double penalty);

// Steps 2-5 of one row [vocab] (float32): the filtered, temperature-scaled logits that sampling draws from.
MEMTX_API torch::Tensor filtered_logits(const torch::Tensor& logits, const SamplingOptions& options);

// One token id from logits [vocab] (steps 2-6; seen, when given, with step 1 first).
MEMTX_API int64_t sample_token(const torch::Tensor& logits, const SamplingOptions& options, at::Generator& generator,
                               const SeenTokens* seen = nullptr);

}  // namespace memtx::infer
