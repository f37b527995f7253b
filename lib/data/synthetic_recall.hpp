// data/synthetic_recall.hpp: associative recall. A prompt lists key-value pairs and then asks for the value
// of one key:  "Key-value pairs: abc=123, qrs=907, ... Query: qrs. Value:"  with the answer " 907".
// Keys are distinct strings of key_length lowercase letters, values value_digits decimal digits (no leading
// zero); the queried pair is drawn uniformly. Everything is drawn from the seed.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset_document.hpp"
#include "tokenizer/tokenizer.hpp"

namespace memtx::data {

struct RecallOptions {
  int64_t pairs = 16;     // >= 1, at most 26^key_length / 2
  int key_length = 3;     // 1..8
  int value_digits = 3;   // 1..18
  uint64_t seed = 0;
};

struct RecallExample {
  std::vector<int64_t> prompt;  // the tokenizer's prefix, the pairs and the query
  std::vector<int64_t> answer;  // the tokens of " " + value
  std::vector<std::pair<std::string, std::string>> pairs;  // in prompt order
  int64_t query = 0;            // index of the queried pair
  std::string key, value;       // pairs[query]
  std::string text;             // the prompt's text (without the tokenizer's prefix)
};

// Error(InvalidArgument) for options outside the bounds above.
RecallExample make_recall_example(const Tokenizer& tokenizer, const RecallOptions& options);

// prompt + answer; answer_only: mask 1 on the answer tokens only, else on every token.
Document recall_document(const RecallExample& example, bool answer_only);

}  // namespace memtx::data
