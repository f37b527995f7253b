// infer/text_stream.cpp: incremental decoding of a growing token sequence (see text_stream.hpp).
#include "infer/text_stream.hpp"

#include "memtx/error.hpp"

namespace memtx::infer {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

}  // namespace

size_t TextStream::unfinished_utf8_tail(const std::string& text) {
  const size_t n = text.size();
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(text[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back for its lead byte
    if (c < 0xC0) return 0;            // ASCII (or a stray byte): nothing unfinished
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    return need > back ? back : 0;
  }
  return 0;
}

std::optional<std::string> TextStream::push(int64_t token) {
  tokens_.push_back(token);
  try {
    text_ = tokenizer_.decode(tokens_);
  } catch (const Error&) {
    tokens_.pop_back();  // undecodable: left out of the text
    return std::nullopt;
  }
  size_t ready = text_.size() - unfinished_utf8_tail(text_);
  const size_t r = kReplacement.size();
  if (ready >= r && text_.compare(ready - r, r, kReplacement) == 0) ready -= r;
  if (ready <= emitted_) return std::string();
  std::string piece = text_.substr(emitted_, ready - emitted_);
  emitted_ = ready;
  return piece;
}

std::string TextStream::finish() {
  if (text_.size() <= emitted_) return std::string();
  std::string rest = text_.substr(emitted_);
  emitted_ = text_.size();
  return rest;
}

}  // namespace memtx::infer
