// infer/text_stream.hpp: the text of a growing token sequence, handed out piece by piece as tokens arrive
// (streaming generation). After each token the whole sequence is decoded again (so tokenizers whose decoding
// of a token depends on its neighbours, e.g. SentencePiece's leading space, stream the same text that one
// decode gives); the piece is the decoded text beyond what was handed out, minus a tail held back while it
// could still change:
//   - the bytes of an unfinished UTF-8 character at the end (a lead byte without all its continuation bytes);
//   - a final U+FFFD (what byte-level decoders give for a partial character).
// finish() hands out whatever is still held, so the pieces always concatenate to decode(all tokens) as long as
// the decoded text only grows at its end. Ids the tokenizer cannot decode are skipped (push returns nullopt).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "memtx/export.h"
#include "tokenizer/tokenizer.hpp"

namespace memtx::infer {

class MEMTX_API TextStream {
 public:
  explicit TextStream(const data::Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  // The new text this token completes (possibly empty); nullopt when the tokenizer cannot decode the id.
  std::optional<std::string> push(int64_t token);
  // The held-back tail (empty when nothing is held).
  std::string finish();
  // Bytes at the end of text that belong to an unfinished UTF-8 character (0 when it ends complete).
  static size_t unfinished_utf8_tail(const std::string& text);

 private:
  const data::Tokenizer& tokenizer_;
  std::vector<int64_t> tokens_;
  std::string text_;    // decode(tokens_)
  size_t emitted_ = 0;  // bytes of text_ handed out
};

}  // namespace memtx::infer
