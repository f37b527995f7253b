// data/packing_iterator.hpp: batches over a packed dataset, epoch counting, and a cursor that resumes
// exactly where a run stopped.
//
// next_batch(B) returns the next B windows: rows from the end of one epoch and the start of the next share
// a batch. With num_epochs set the iterator stops after that many epochs: the last batch may be short and
// afterwards batches are empty (exhausted()). Without it, epochs go on forever (max_steps decides).
// The cursor (epoch, index of the next window in that epoch's order, and the data's fingerprint) goes into
// trainer_state.json; restore() on an iterator over the same data gives exactly the batches that followed.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/packing.hpp"

namespace memtx::data {

struct Batch {
  std::vector<int64_t> tokens;  // [batch * (length + 1)], row-major
  std::vector<uint8_t> mask;    // [batch * (length + 1)]; mask[r][t + 1] weighs the target of input t
  int64_t batch = 0;            // rows, B (0: the data is exhausted)
  int64_t length = 0;           // L = max_length: inputs per row
  int64_t epoch = 0;            // epoch of the first row
  bool empty() const { return batch == 0; }
};

struct Cursor {
  int64_t epoch = 0;
  int64_t index = 0;          // next window in the epoch's order
  uint64_t fingerprint = 0;   // PackedDataset::fingerprint() of the data
  std::string to_json() const;                       // {"epoch": 1, "index": 17, "fingerprint": "hex"}
  static Cursor from_json(const std::string& text);  // Error(InvalidArgument) when malformed
  bool operator==(const Cursor& o) const { return epoch == o.epoch && index == o.index && fingerprint == o.fingerprint; }
};

// The most tokens (rows x (length + 1)) next_batch sizes a batch for: a safety net against overflowed sizes.
// Configurations are held to 2^30 tokens per rank's micro-batch (training.batch_size x training.max_length),
// and the trainer fetches the rows of every rank (up to 4096) at once.
constexpr int64_t kMaxBatchTokens = int64_t{1} << 42;

class BatchIterator {
 public:
  explicit BatchIterator(std::shared_ptr<const PackedDataset> data, std::optional<int64_t> num_epochs = std::nullopt);

  // Error(InvalidArgument) for batch_size < 1 or a batch of more than kMaxBatchTokens tokens.
  Batch next_batch(int64_t batch_size);
  bool exhausted() const;
  int64_t epoch() const { return epoch_; }  // epoch of the next window = epochs completed
  std::optional<int64_t> num_epochs() const { return num_epochs_; }
  // With num_epochs: the number of non-empty batches of batch_size, ceil(num_epochs * windows / batch_size).
  std::optional<int64_t> total_batches(int64_t batch_size) const;

  Cursor cursor() const;
  // Error(InvalidArgument) when the cursor was taken over other data or points outside it.
  void restore(const Cursor& cursor);
  const PackedDataset& data() const { return *data_; }

 private:
  std::shared_ptr<const PackedDataset> data_;
  std::optional<int64_t> num_epochs_;
  int64_t epoch_ = 0;
  int64_t index_ = 0;
  EpochLayout layout_;
};

}  // namespace memtx::data
