// tokenizer/tokenizer_merge.hpp: the BPE merge loop shared by Hugging Face BPE (merge rank) and SentencePiece
// BPE (piece score): symbols in a linked list, candidate pairs in a heap ordered by (priority, position),
// stale candidates dropped when popped. O(n log n) in the number of symbols.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <utility>
#include <vector>

namespace memtx::data {

struct MergeSymbol {
  int32_t id;      // vocabulary id, -1 when the symbol is not in the vocabulary
  uint32_t begin;  // byte span of the symbol in the word
  uint32_t end;
  bool frozen = false;  // never merged (SentencePiece user-defined pieces)
};

// lookup(left, right) -> std::optional<std::pair<double, int32_t>>: the priority of merging the two
// (lower merges first) and the merged symbol's id, or nullopt when they do not merge. Returns the symbols
// left after every possible merge, in order.
template <typename Lookup>
std::vector<MergeSymbol> merge_symbols(std::vector<MergeSymbol> symbols, Lookup&& lookup) {
  const auto n = static_cast<int32_t>(symbols.size());
  if (n < 2) return symbols;
  std::vector<int32_t> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (int32_t i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Candidate {
    double priority;
    int32_t left;
    uint32_t left_end;   // the spans the pair had when it was queued: a candidate whose symbols
    uint32_t right_end;  // have grown since is stale
    int32_t merged_id;
    bool operator>(const Candidate& o) const {
      return priority != o.priority ? priority > o.priority : left > o.left;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  auto consider = [&](int32_t left) {
    if (left < 0) return;
    const int32_t right = next[left];
    if (right < 0 || symbols[left].frozen || symbols[right].frozen) return;
    const std::optional<std::pair<double, int32_t>> m = lookup(symbols[left], symbols[right]);
    if (m) heap.push({m->first, left, symbols[left].end, symbols[right].end, m->second});
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    const int32_t right = alive[c.left] ? next[c.left] : -1;
    if (right < 0 || symbols[c.left].end != c.left_end || symbols[right].end != c.right_end) continue;
    symbols[c.left].id = c.merged_id;
    symbols[c.left].end = symbols[right].end;
    alive[right] = false;
    next[c.left] = next[right];
    if (next[right] >= 0) prev[next[right]] = c.left;
    consider(prev[c.left]);
    consider(c.left);
  }
  std::vector<MergeSymbol> out;
  for (int32_t i = 0; i >= 0; i = next[i]) out.push_back(symbols[i]);
  return out;
}

}  // namespace memtx::data
