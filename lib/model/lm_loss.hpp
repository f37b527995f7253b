// model/lm_loss.hpp: the next-token language-model loss over packed, masked batches; training and
// evaluation both use it.
//   A batch row holds L+1 tokens t_0..t_L and mask m_0..m_L (data/packing_iterator.hpp).
//   inputs  x = t_0..t_{L-1},  targets y = t_1..t_L,  weights w = m_1..m_L (1 = the target counts)
//   loss_sum = sum_{b,i} w_{b,i} * CE(logits_{b,i}, y_{b,i}),   count = sum w
//   mean loss of a step = (sum over its micro-batches of loss_sum) / (sum of their counts), so k
//   micro-batches give exactly the loss and gradients of one batch holding all their rows.
// CE is computed in float32 whatever the logits' dtype (autocast may produce bf16/fp16 logits).
#pragma once
#include <torch/torch.h>

#include <cstdint>

#include "data/packing_iterator.hpp"
#include "memtx/export.h"

namespace memtx {

struct LmBatch {
  torch::Tensor inputs;   // [B, L] int64
  torch::Tensor targets;  // [B, L] int64
  torch::Tensor weights;  // [B, L] float32, 0 or 1
  int64_t target_count = 0;  // sum of weights
  int64_t rows = 0;
};

// Error(InvalidArgument) for an empty batch or one whose vectors do not hold batch * (length + 1) entries.
MEMTX_API LmBatch to_lm_batch(const data::Batch& batch, const torch::Device& device);

// logits [B, L, V], targets [B, L], weights [B, L] -> scalar float32 sum of weighted cross-entropies.
// Error(InvalidArgument) on mismatched shapes.
MEMTX_API torch::Tensor masked_lm_loss_sum(const torch::Tensor& logits, const torch::Tensor& targets,
                                           const torch::Tensor& weights);

}  // namespace memtx
