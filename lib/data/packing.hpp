// data/packing.hpp: documents packed into fixed windows for training.
//
// Every document gets the end-of-sequence token appended (its mask is the mask of the document's last
// token: counted after a pretraining text or a passkey answer, not after a chat's final newline); the
// documents of an epoch are concatenated into one stream and cut into consecutive, non-overlapping windows
// of max_length + 1 tokens. A row of a batch is one window: inputs = window[0..L), targets = window[1..L],
// and the target at position t counts in the loss when mask[t + 1] is 1. The last window of an epoch is
// filled up with pad tokens (mask 0), so each token of each document is in exactly one window per epoch.
// With shuffle, every epoch draws (from the seed and the epoch number) a new document order, so the cuts
// fall elsewhere, and a new window order; without it, both keep the file order (evaluation).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "data/dataset_document.hpp"

namespace memtx::data {

struct PackingOptions {
  int64_t max_length = 0;          // L (training.max_length): the inputs of a row; windows hold L + 1 tokens
  std::optional<int64_t> eos_id;   // appended after every document; none when nullopt
  int64_t pad_id = 0;              // fills the last window
  uint64_t seed = 0;               // training.data_seed
  bool shuffle = true;
};

// The order of one epoch: documents, their start offsets in the epoch's stream, and windows.
struct EpochLayout {
  int64_t epoch = 0;
  std::vector<int64_t> doc_order;
  std::vector<int64_t> doc_start;     // stream offset of doc_order[k]
  std::vector<int64_t> window_order;  // row i of the epoch is stream window window_order[i]
};

class PackedDataset {
 public:
  // Empty documents are dropped; Error(InvalidArgument) when no tokens remain or max_length < 1.
  PackedDataset(std::vector<Document> documents, const PackingOptions& options);

  int64_t max_length() const { return options_.max_length; }
  int64_t window_length() const { return options_.max_length + 1; }
  int64_t num_documents() const { return static_cast<int64_t>(doc_offset_.size()) - 1; }
  int64_t num_tokens() const { return static_cast<int64_t>(tokens_.size()); }  // with eos, without padding
  int64_t windows_per_epoch() const;
  const PackingOptions& options() const { return options_; }
  // Hash of the tokens, masks and options: a saved cursor only fits the data it was taken from.
  uint64_t fingerprint() const { return fingerprint_; }

  EpochLayout layout(int64_t epoch) const;
  // Row `index` (0 <= index < windows_per_epoch()) of the layout's epoch: window_length() tokens and masks.
  void window(const EpochLayout& layout, int64_t index, int64_t* tokens, uint8_t* mask) const;

 private:
  PackingOptions options_;
  std::vector<int64_t> tokens_;      // every document followed by its eos
  std::vector<uint8_t> mask_;
  std::vector<int64_t> doc_offset_;  // document d is tokens_[doc_offset_[d], doc_offset_[d + 1])
  uint64_t fingerprint_ = 0;
};

}  // namespace memtx::data
