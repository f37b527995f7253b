// data/synthetic_recall.cpp: associative recall prompts (synthetic_recall.hpp).
#include "data/synthetic_recall.hpp"

#include <set>

#include "data/dataset_encode.hpp"
#include "data/dataset_random.hpp"
#include "memtx/error.hpp"

namespace memtx::data {

RecallExample make_recall_example(const Tokenizer& tokenizer, const RecallOptions& o) {
  if (o.key_length < 1 || o.key_length > 8) {
    throw Error(StatusCode::InvalidArgument, "associative recall key_length must be in 1..8, got " +
                                                 std::to_string(o.key_length));
  }
  if (o.value_digits < 1 || o.value_digits > 18) {
    throw Error(StatusCode::InvalidArgument, "associative recall value_digits must be in 1..18, got " +
                                                 std::to_string(o.value_digits));
  }
  int64_t key_space = 1;
  for (int i = 0; i < o.key_length; ++i) key_space *= 26;
  if (o.pairs < 1 || o.pairs > key_space / 2) {
    throw Error(StatusCode::InvalidArgument, "associative recall pairs must be in 1.." +
                                                 std::to_string(key_space / 2) + " for " +
                                                 std::to_string(o.key_length) + "-letter keys, got " +
                                                 std::to_string(o.pairs));
  }
  Rng rng(derive_seed(o.seed, "associative_recall"));
  RecallExample ex;
  std::set<std::string> used;
  while (static_cast<int64_t>(ex.pairs.size()) < o.pairs) {
    std::string key;
    for (int i = 0; i < o.key_length; ++i) key += static_cast<char>('a' + rng.below(26));
    if (!used.insert(key).second) continue;
    std::string value(1, static_cast<char>('1' + rng.below(9)));
    while (static_cast<int>(value.size()) < o.value_digits) value += static_cast<char>('0' + rng.below(10));
    ex.pairs.emplace_back(std::move(key), std::move(value));
  }
  ex.query = static_cast<int64_t>(rng.below(static_cast<uint64_t>(o.pairs)));
  ex.key = ex.pairs[static_cast<size_t>(ex.query)].first;
  ex.value = ex.pairs[static_cast<size_t>(ex.query)].second;
  ex.text = "Key-value pairs:";
  for (size_t i = 0; i < ex.pairs.size(); ++i) {
    ex.text += (i ? ", " : " ") + ex.pairs[i].first + "=" + ex.pairs[i].second;
  }
  ex.text += ". Query: " + ex.key + ". Value:";
  PieceEncoder enc(tokenizer);
  ex.prompt = enc.prefix();
  const auto body = enc.piece(ex.text);
  ex.prompt.insert(ex.prompt.end(), body.begin(), body.end());
  ex.answer = enc.piece(" " + ex.value);
  return ex;
}

Document recall_document(const RecallExample& example, bool answer_only) {
  return Document::prompt_and_answer(example.prompt, example.answer, answer_only);
}

}  // namespace memtx::data
