// data/dataset_encode.hpp: tokenizing a text in pieces (chat turns, prompt parts) so each piece's tokens
// can carry their own loss mask. A tokenizer whose encode() puts a prefix (a beginning-of-sequence token)
// before every text would repeat it before every piece; PieceEncoder finds that prefix once (the encoding
// of "") and strips it from pieces, so a document is prefix() + piece(a) + piece(b) + ...
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.hpp"

namespace memtx::data {

class PieceEncoder {
 public:
  explicit PieceEncoder(const Tokenizer& tokenizer);
  // Tokens that start every document (empty for tokenizers that add nothing).
  const std::vector<int64_t>& prefix() const { return prefix_; }
  // The text's tokens without the prefix.
  std::vector<int64_t> piece(const std::string& text) const;
  const Tokenizer& tokenizer() const { return tokenizer_; }

 private:
  const Tokenizer& tokenizer_;
  std::vector<int64_t> prefix_;
};

}  // namespace memtx::data
