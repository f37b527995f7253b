// data/packing_iterator.cpp: BatchIterator and its cursor (packing_iterator.hpp).
#include "data/packing_iterator.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "memtx/error.hpp"

namespace memtx::data {

std::string Cursor::to_json() const {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fingerprint));
  return nlohmann::json{{"epoch", epoch}, {"index", index}, {"fingerprint", hex}}.dump();
}

Cursor Cursor::from_json(const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    Cursor c;
    c.epoch = j.at("epoch").get<int64_t>();
    c.index = j.at("index").get<int64_t>();
    const std::string hex = j.at("fingerprint").get<std::string>();
    size_t used = 0;
    c.fingerprint = std::stoull(hex, &used, 16);
    if (used != hex.size() || hex.empty()) throw std::invalid_argument("fingerprint");
    return c;
  } catch (const std::exception& e) {
    throw Error(StatusCode::InvalidArgument, "malformed data cursor '" + text + "': " + e.what());
  }
}

BatchIterator::BatchIterator(std::shared_ptr<const PackedDataset> data, std::optional<int64_t> num_epochs)
    : data_(std::move(data)), num_epochs_(num_epochs) {
  if (!data_) throw Error(StatusCode::InvalidArgument, "BatchIterator needs a dataset");
  if (num_epochs_ && *num_epochs_ < 1) {
    throw Error(StatusCode::InvalidArgument, "num_epochs must be >= 1, got " + std::to_string(*num_epochs_));
  }
  layout_ = data_->layout(0);
}

bool BatchIterator::exhausted() const { return num_epochs_ && epoch_ >= *num_epochs_; }

std::optional<int64_t> BatchIterator::total_batches(int64_t batch_size) const {
  if (!num_epochs_ || batch_size < 1) return std::nullopt;
  int64_t windows = 0;  // saturates rather than wraps for an absurd number of epochs
  if (__builtin_mul_overflow(*num_epochs_, data_->windows_per_epoch(), &windows)) windows = INT64_MAX;
  return windows / batch_size + (windows % batch_size != 0 ? 1 : 0);
}

Batch BatchIterator::next_batch(int64_t batch_size) {
  if (batch_size < 1) throw Error(StatusCode::InvalidArgument, "batch_size must be >= 1, got " + std::to_string(batch_size));
  Batch b;
  b.length = data_->max_length();
  b.epoch = epoch_;
  const int64_t w = data_->window_length();
  const int64_t per_epoch = data_->windows_per_epoch();
  int64_t cells = 0;  // rows x window, overflow-checked before anything is sized by it
  if (__builtin_mul_overflow(batch_size, w, &cells) || cells > kMaxBatchTokens)
    throw Error(StatusCode::InvalidArgument, "a batch of " + std::to_string(batch_size) + " rows of " +
                                                 std::to_string(w) + " tokens is more than the limit of " +
                                                 std::to_string(kMaxBatchTokens) + " tokens");
  b.tokens.resize(static_cast<size_t>(cells));
  b.mask.resize(static_cast<size_t>(cells));
  while (b.batch < batch_size && !exhausted()) {
    data_->window(layout_, index_, b.tokens.data() + b.batch * w, b.mask.data() + b.batch * w);
    ++b.batch;
    if (++index_ == per_epoch) {
      index_ = 0;
      ++epoch_;
      if (!exhausted()) layout_ = data_->layout(epoch_);
    }
  }
  b.tokens.resize(static_cast<size_t>(b.batch * w));
  b.mask.resize(static_cast<size_t>(b.batch * w));
  return b;
}

Cursor BatchIterator::cursor() const { return Cursor{epoch_, index_, data_->fingerprint()}; }

void BatchIterator::restore(const Cursor& c) {
  if (c.fingerprint != data_->fingerprint()) {
    throw Error(StatusCode::InvalidArgument,
                "the data cursor was saved over other data (its fingerprint differs): the dataset, tokenizer, "
                "max_length or data_seed changed since the checkpoint");
  }
  if (c.epoch < 0 || c.index < 0 || c.index >= data_->windows_per_epoch()) {
    throw Error(StatusCode::InvalidArgument, "data cursor outside the data: epoch " + std::to_string(c.epoch) +
                                                 ", window " + std::to_string(c.index) + " of " +
                                                 std::to_string(data_->windows_per_epoch()));
  }
  epoch_ = c.epoch;
  index_ = c.index;
  if (layout_.epoch != epoch_) layout_ = data_->layout(epoch_);
}

}  // namespace memtx::data
