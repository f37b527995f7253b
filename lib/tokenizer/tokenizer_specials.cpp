// tokenizer/tokenizer_specials.cpp: the special-token splitter (byte trie, leftmost-longest matching).
#include "tokenizer/tokenizer_specials.hpp"

#include <utility>

#include "tokenizer/tokenizer_unicode.hpp"

namespace memtx::data {
namespace {

// The character that ends just before pos (lenient: an invalid byte is its own character).
char32_t char_before(const std::string& text, size_t pos, size_t* length) {
  size_t start = pos - 1;
  while (start > 0 && pos - start < 4 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  const size_t n = unicode::utf8_sequence_length(text, start);
  if (n == pos - start) {
    *length = n;
    std::vector<unicode::Unit> u = unicode::decode_utf8(std::string_view(text).substr(start, n));
    return u[0].cp;
  }
  *length = 1;
  return unicode::kInvalid;
}

char32_t char_at(const std::string& text, size_t pos, size_t* length) {
  const size_t n = unicode::utf8_sequence_length(text, pos);
  if (n == 0) {
    *length = 1;
    return unicode::kInvalid;
  }
  *length = n;
  return unicode::decode_utf8(std::string_view(text).substr(pos, n))[0].cp;
}

bool is_word_char(char32_t cp) {
  return cp != unicode::kInvalid && (cp == '_' || unicode::is_letter(cp) || unicode::is_number(cp));
}

bool is_space(char32_t cp) { return cp != unicode::kInvalid && unicode::is_whitespace(cp); }

}  // namespace

SpecialSplitter::SpecialSplitter(std::vector<SpecialToken> tokens) : tokens_(std::move(tokens)) {
  for (size_t t = 0; t < tokens_.size(); ++t) trie_.insert(tokens_[t].text, static_cast<int32_t>(t));
}

int SpecialSplitter::longest_match(const std::string& text, size_t pos) const {
  int best = -1;
  trie_.prefixes(text, pos, [&](size_t length, int32_t t) {
    if (tokens_[t].single_word) {
      size_t len;
      if (pos > 0 && is_word_char(char_before(text, pos, &len))) return;
      if (pos + length < text.size() && is_word_char(char_at(text, pos + length, &len))) return;
    }
    best = t;
  });
  return best;
}

std::vector<TextSegment> SpecialSplitter::split(const std::string& text) const {
  std::vector<TextSegment> out;
  size_t plain_begin = 0;  // start of the pending plain text
  size_t pos = 0;
  while (pos < text.size()) {
    const int t = trie_.empty() ? -1 : longest_match(text, pos);
    if (t < 0) {
      ++pos;
      continue;
    }
    const SpecialToken& tok = tokens_[t];
    size_t begin = pos;
    size_t end = pos + tok.text.size();
    size_t len;
    if (tok.lstrip)
      while (begin > plain_begin && is_space(char_before(text, begin, &len))) begin -= len;
    if (tok.rstrip)
      while (end < text.size() && is_space(char_at(text, end, &len))) end += len;
    if (begin > plain_begin) out.push_back({plain_begin, begin, -1});
    out.push_back({begin, end, tok.id});
    plain_begin = pos = end;
  }
  if (plain_begin < text.size()) out.push_back({plain_begin, text.size(), -1});
  return out;
}

}  // namespace memtx::data
