// tokenizer/tokenizer_specials.hpp: finds special (added) tokens written in a text: a byte trie, leftmost
// occurrence first, longest token at that position, with the Hugging Face options lstrip / rstrip (also
// swallow the whitespace on that side) and single_word (only between non-word characters).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer_trie.hpp"

namespace memtx::data {

struct SpecialToken {
  std::string text;
  int64_t id = 0;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
};

// A piece of the text: plain text [begin, end) when id < 0, else a special token (its span included).
struct TextSegment {
  size_t begin;
  size_t end;
  int64_t id;
};

class SpecialSplitter {
 public:
  SpecialSplitter() = default;
  explicit SpecialSplitter(std::vector<SpecialToken> tokens);
  // Plain segments are never empty; together with the special ones they cover the text in order.
  std::vector<TextSegment> split(const std::string& text) const;
  const std::vector<SpecialToken>& tokens() const { return tokens_; }

 private:
  // The longest token starting at pos that passes its single_word check, -1 for none.
  int longest_match(const std::string& text, size_t pos) const;

  std::vector<SpecialToken> tokens_;
  ByteTrie trie_;  // token text -> index in tokens_
};

}  // namespace memtx::data
