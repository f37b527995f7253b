// train/segment_groups.hpp: truncated back-propagation through time for models that run in segments
// (Infini-attention and other layers with segment_length() > 0), so that training memory does not grow with the
// sequence length. A micro-batch of T tokens whose model runs in segments of S tokens and cuts (detaches) its
// carried state every k = detach_every() segments is trained in groups of k*S tokens, in order: each group's
// forward pass continues the state the previous group left, its loss is back-propagated at once, and the state
// is then detached, so only one group's activations are alive at a time. The model's own forward over the whole
// micro-batch cuts the state at the same points, so the gradients are the same sums (every group's loss term
// is back-propagated through exactly the graph the whole pass would give it): equal up to the order of the
// additions. One group (the whole micro-batch, the model's plain forward) when the model has no segments, when
// k is 0 (full back-propagation), or when T <= k*S.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "memtx/export.h"
#include "model/transformer.hpp"

namespace memtx::train {

class MEMTX_API SegmentGroups {
 public:
  // inputs [B, T]: the micro-batch's tokens.
  SegmentGroups(TransformerImpl& model, const torch::Tensor& inputs);

  size_t size() const { return ranges_.size(); }
  // Group g's part of a [B, T, ...] tensor (the tokens, targets or weights), and its share of the T tokens
  // (the weight of the layers' auxiliary losses of its forward pass).
  torch::Tensor slice(const torch::Tensor& t, size_t g) const;
  double token_share(size_t g) const;
  // Group g's forward pass (groups in order), carrying the state from group g - 1.
  torch::Tensor forward(size_t g);
  // After group g's backward pass: the carried state leaves the graph (no-op for a single group).
  void cut();

 private:
  TransformerImpl& model_;
  torch::Tensor inputs_;
  std::vector<std::pair<int64_t, int64_t>> ranges_;  // [begin, end) token ranges
  ModelState state_;
};

}  // namespace memtx::train
