// tokenizer/tokenizer_errors.cpp: error helpers of the tokenizers.
#include "tokenizer/tokenizer_errors.hpp"

#include "memtx/error.hpp"

namespace memtx::data {

void throw_invalid_id(const std::string& tokenizer, int64_t id, int64_t vocab_size) {
  throw Error(StatusCode::InvalidArgument, tokenizer + " tokenizer: invalid token id " + std::to_string(id) +
                                               " (vocabulary size " + std::to_string(vocab_size) + ")");
}

void throw_io(const std::string& file, const std::string& what) {
  throw Error(StatusCode::Io, "tokenizer file " + file + ": " + what);
}

void throw_unsupported(const std::string& file, const std::string& what) {
  throw Error(StatusCode::Config, "tokenizer file " + file + ": unsupported " + what);
}

}  // namespace memtx::data
