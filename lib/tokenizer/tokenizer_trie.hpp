// tokenizer/tokenizer_trie.hpp: a byte trie mapping strings to int32 values, for prefix searches over text
// (special tokens, SentencePiece pieces and user-defined symbols).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace memtx::data {

class ByteTrie {
 public:
  // Adds key -> value; the first value given for a key is kept. Empty keys are ignored.
  void insert(std::string_view key, int32_t value) {
    if (key.empty()) return;
    int32_t node = 0;
    for (unsigned char c : key) {
      const uint64_t edge = (static_cast<uint64_t>(node) << 8) | c;
      auto it = edges_.find(edge);
      if (it == edges_.end()) {
        it = edges_.emplace(edge, static_cast<int32_t>(values_.size())).first;
        values_.push_back(-1);
      }
      node = it->second;
    }
    if (values_[node] < 0) values_[node] = value;
  }

  bool empty() const { return edges_.empty(); }

  // Calls f(length, value) for every key that starts text at pos, shortest first.
  template <typename F>
  void prefixes(std::string_view text, size_t pos, F&& f) const {
    int32_t node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      auto it = edges_.find((static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(text[i]));
      if (it == edges_.end()) return;
      node = it->second;
      if (values_[node] >= 0) f(i + 1 - pos, values_[node]);
    }
  }

 private:
  std::unordered_map<uint64_t, int32_t> edges_;  // (node << 8 | byte) -> child node
  std::vector<int32_t> values_{-1};              // node -> value, -1 for none; node 0 is the root
};

}  // namespace memtx::data
