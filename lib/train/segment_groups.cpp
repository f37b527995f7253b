// train/segment_groups.cpp: the groups of segments a micro-batch is back-propagated in (see the header).
#include "train/segment_groups.hpp"

#include <algorithm>

namespace memtx::train {

SegmentGroups::SegmentGroups(TransformerImpl& model, const torch::Tensor& inputs) : model_(model), inputs_(inputs) {
  const int64_t T = inputs.size(1);
  const int64_t group = model.segment_length() * model.detach_every();  // 0: one pass over everything
  if (group <= 0 || T <= group) {
    ranges_.emplace_back(0, T);
    return;
  }
  for (int64_t begin = 0; begin < T; begin += group) ranges_.emplace_back(begin, std::min(T, begin + group));
  state_ = model.initial_state(inputs.size(0));
}

torch::Tensor SegmentGroups::slice(const torch::Tensor& t, size_t g) const {
  const auto [begin, end] = ranges_.at(g);
  return ranges_.size() == 1 ? t : t.narrow(1, begin, end - begin);
}

double SegmentGroups::token_share(size_t g) const {
  const auto [begin, end] = ranges_.at(g);
  return static_cast<double>(end - begin) / static_cast<double>(inputs_.size(1));
}

torch::Tensor SegmentGroups::forward(size_t g) {
  if (ranges_.size() == 1) return model_.forward(inputs_);
  return model_.forward(slice(inputs_, g), &state_);
}

void SegmentGroups::cut() {
  if (ranges_.size() == 1) return;
  for (auto& layer : state_.layers)
    for (auto& entry : layer) entry.second = entry.second.detach();
}

}  // namespace memtx::train
