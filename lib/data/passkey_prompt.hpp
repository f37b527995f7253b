// data/passkey_prompt.hpp: a passkey prompt's tokens without storing them. A prompt is a handful of runs: pieces
// of tokens (the tokenizer's prefix, the needle, the question) and stretches of the filler, whose sentences repeat
// in a cycle. A run holds its piece (shared, a few dozen tokens) or the cycle's sentences and where in the cycle
// it starts, so a million-token prompt costs a few hundred bytes, and copy() writes any range of it on demand
// (the evaluation streams its prefill piece by piece; synthetic_passkey.hpp builds the runs).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "memtx/export.h"

namespace memtx::data {

class MEMTX_API PasskeyPrompt {
 public:
  using Tokens = std::shared_ptr<const std::vector<int64_t>>;
  using Cycle = std::shared_ptr<const std::vector<std::vector<int64_t>>>;  // sentences, none empty

  int64_t size() const { return size_; }
  // Writes tokens [begin, end) (0 <= begin <= end <= size()) to out, end - begin values.
  void copy(int64_t begin, int64_t end, int64_t* out) const;
  std::vector<int64_t> tokens() const;  // all of them

  void append(Tokens piece);
  // count tokens of the cycle read from sentence `first` on (sentence k is (*cycle)[k % n]), the last one cut.
  void append_cycle(Cycle cycle, size_t first, int64_t count);

 private:
  struct Run {
    Tokens piece;     // set for a piece
    Cycle cycle;      // set for a filler stretch
    size_t first = 0;
    int64_t cycle_tokens = 0;  // tokens in one turn of the cycle
    int64_t begin = 0;         // the run's first token in the prompt
    int64_t count = 0;
  };
  // Writes tokens [from, from + n) of a cycle run (positions relative to the run's start).
  static void copy_cycle(const Run& run, int64_t from, int64_t n, int64_t* out);

  std::vector<Run> runs_;
  int64_t size_ = 0;
};

}  // namespace memtx::data
