// data/packing.cpp: the packed token stream, epoch layouts and windows (packing.hpp).
#include "data/packing.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "data/dataset_random.hpp"
#include "memtx/error.hpp"

namespace memtx::data {

PackedDataset::PackedDataset(std::vector<Document> documents, const PackingOptions& options) : options_(options) {
  if (options_.max_length < 1) {
    throw Error(StatusCode::InvalidArgument, "packing needs max_length >= 1, got " +
                                                 std::to_string(options_.max_length));
  }
  size_t total = 0;
  for (const auto& d : documents) {
    if (d.mask.size() != d.tokens.size()) {
      throw Error(StatusCode::Internal, "a document's mask and tokens differ in length");
    }
    if (!d.tokens.empty()) total += d.tokens.size() + (options_.eos_id ? 1 : 0);
  }
  if (total == 0) throw Error(StatusCode::InvalidArgument, "no tokens to pack: every document is empty");
  tokens_.reserve(total);
  mask_.reserve(total);
  doc_offset_.push_back(0);
  for (auto& d : documents) {
    if (d.tokens.empty()) continue;
    tokens_.insert(tokens_.end(), d.tokens.begin(), d.tokens.end());
    mask_.insert(mask_.end(), d.mask.begin(), d.mask.end());
    if (options_.eos_id) {
      tokens_.push_back(*options_.eos_id);
      mask_.push_back(d.mask.back());
    }
    doc_offset_.push_back(static_cast<int64_t>(tokens_.size()));
    Document().tokens.swap(d.tokens);  // free as we go
    Document().mask.swap(d.mask);
  }
  uint64_t h = derive_seed(options_.seed, options_.shuffle ? "shuffle" : "ordered",
                           static_cast<uint64_t>(options_.max_length));
  h = mix64(h ^ static_cast<uint64_t>(options_.pad_id));
  if (options_.eos_id) h = mix64(h ^ static_cast<uint64_t>(*options_.eos_id));
  for (size_t i = 0; i < tokens_.size(); ++i) h = mix64(h ^ (static_cast<uint64_t>(tokens_[i]) * 2 + mask_[i]));
  for (int64_t off : doc_offset_) h = mix64(h ^ static_cast<uint64_t>(off));
  fingerprint_ = h;
}

int64_t PackedDataset::windows_per_epoch() const {
  const int64_t w = window_length();
  return (num_tokens() + w - 1) / w;
}

EpochLayout PackedDataset::layout(int64_t epoch) const {
  EpochLayout l;
  l.epoch = epoch;
  const int64_t n = num_documents();
  const int64_t w = windows_per_epoch();
  if (options_.shuffle) {
    l.doc_order = permutation(n, derive_seed(options_.seed, "documents", static_cast<uint64_t>(epoch)));
    l.window_order = permutation(w, derive_seed(options_.seed, "windows", static_cast<uint64_t>(epoch)));
  } else {
    l.doc_order.resize(static_cast<size_t>(n));
    l.window_order.resize(static_cast<size_t>(w));
    std::iota(l.doc_order.begin(), l.doc_order.end(), int64_t{0});
    std::iota(l.window_order.begin(), l.window_order.end(), int64_t{0});
  }
  l.doc_start.resize(static_cast<size_t>(n));
  int64_t at = 0;
  for (int64_t k = 0; k < n; ++k) {
    l.doc_start[static_cast<size_t>(k)] = at;
    const auto d = static_cast<size_t>(l.doc_order[static_cast<size_t>(k)]);
    at += doc_offset_[d + 1] - doc_offset_[d];
  }
  return l;
}

void PackedDataset::window(const EpochLayout& layout, int64_t index, int64_t* tokens, uint8_t* mask) const {
  if (index < 0 || index >= windows_per_epoch()) {
    throw Error(StatusCode::InvalidArgument, "window " + std::to_string(index) + " outside 0.." +
                                                 std::to_string(windows_per_epoch() - 1));
  }
  const int64_t w = window_length();
  int64_t pos = layout.window_order[static_cast<size_t>(index)] * w;
  int64_t filled = 0;
  auto k = static_cast<size_t>(std::upper_bound(layout.doc_start.begin(), layout.doc_start.end(), pos) -
                               layout.doc_start.begin() - 1);
  while (filled < w && k < layout.doc_start.size()) {
    const auto d = static_cast<size_t>(layout.doc_order[k]);
    const int64_t begin = doc_offset_[d] + (pos - layout.doc_start[k]);
    const int64_t take = std::min(w - filled, doc_offset_[d + 1] - begin);
    std::copy_n(tokens_.begin() + begin, take, tokens + filled);
    std::copy_n(mask_.begin() + begin, take, mask + filled);
    filled += take;
    pos += take;
    ++k;
  }
  std::fill(tokens + filled, tokens + w, options_.pad_id);
  std::fill(mask + filled, mask + w, uint8_t{0});
}

}  // namespace memtx::data
