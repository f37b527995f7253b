// data/dataset_encode.cpp: PieceEncoder, the prefix-stripping piecewise encoder.
#include "data/dataset_encode.hpp"

#include <algorithm>

namespace memtx::data {

PieceEncoder::PieceEncoder(const Tokenizer& tokenizer) : tokenizer_(tokenizer), prefix_(tokenizer.encode("")) {}

std::vector<int64_t> PieceEncoder::piece(const std::string& text) const {
  std::vector<int64_t> ids = tokenizer_.encode(text);
  if (!prefix_.empty() && ids.size() >= prefix_.size() &&
      std::equal(prefix_.begin(), prefix_.end(), ids.begin())) {
    ids.erase(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(prefix_.size()));
  }
  return ids;
}

}  // namespace memtx::data
