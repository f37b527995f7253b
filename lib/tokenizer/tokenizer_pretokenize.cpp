// tokenizer/tokenizer_pretokenize.cpp: scanners for the GPT-2 / Llama 3 / Qwen2 pre-tokenizer patterns. Each
// alternative is a function returning the length (in characters) of its match at a position, 0 for none;
// the first alternative that matches wins, as in a backtracking regex engine.
#include "tokenizer/tokenizer_pretokenize.hpp"

#include "tokenizer/tokenizer_unicode.hpp"

namespace memtx::data {
namespace {

const char* const kGpt2Regex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* const kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

enum class Cls : unsigned char { Letter, Number, Space, Other };

struct Scanner {
  std::vector<char32_t> cps;
  std::vector<Cls> cls;
  size_t n = 0;

  bool is(size_t i, Cls c) const { return i < n && cls[i] == c; }
  bool cp_is(size_t i, char32_t c) const { return i < n && cps[i] == c; }
  bool newline(size_t i) const { return cp_is(i, '\r') || cp_is(i, '\n'); }
  size_t run(size_t i, Cls c) const {
    size_t j = i;
    while (j < n && cls[j] == c) ++j;
    return j - i;
  }
  // Case-insensitive match of one ASCII letter (with the Unicode fold of 's': U+017F LONG S).
  bool ci(size_t i, char lower) const {
    if (i >= n) return false;
    const char32_t c = cps[i];
    if (c == static_cast<char32_t>(lower) || c == static_cast<char32_t>(lower - 'a' + 'A')) return true;
    return lower == 's' && c == 0x17F;
  }
  bool exact(size_t i, char lower) const { return cp_is(i, static_cast<char32_t>(lower)); }

  // 's|'t|'re|'ve|'m|'ll|'d, case-sensitive or not.
  size_t contraction(size_t i, bool fold) const {
    if (!cp_is(i, '\'')) return 0;
    auto m = [&](size_t k, char c) { return fold ? ci(k, c) : exact(k, c); };
    if (m(i + 1, 's') || m(i + 1, 't')) return 2;
    if (m(i + 1, 'r') && m(i + 2, 'e')) return 3;
    if (m(i + 1, 'v') && m(i + 2, 'e')) return 3;
    if (m(i + 1, 'm')) return 2;
    if (m(i + 1, 'l') && m(i + 2, 'l')) return 3;
    if (m(i + 1, 'd')) return 2;
    return 0;
  }
  // " ?X+" for a class X.
  size_t space_then_run(size_t i, Cls c) const {
    if (cp_is(i, ' ') && is(i + 1, c)) return 1 + run(i + 1, c);
    return run(i, c);
  }
  // \s+(?!\S): the whitespace run, less its last character when a non-space follows it.
  size_t spaces_not_before_nonspace(size_t i) const {
    const size_t r = run(i, Cls::Space);
    if (r == 0) return 0;
    if (i + r == n) return r;
    return r - 1;
  }
  // [^\r\n\p{L}\p{N}]?\p{L}+
  size_t prefixed_letters(size_t i) const {
    if (i < n && cls[i] != Cls::Letter && cls[i] != Cls::Number && !newline(i) && is(i + 1, Cls::Letter))
      return 1 + run(i + 1, Cls::Letter);
    return run(i, Cls::Letter);
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  size_t others_then_newlines(size_t i) const {
    size_t k = space_then_run(i, Cls::Other);
    if (k == 0) return 0;
    while (newline(i + k)) ++k;
    return k;
  }
  // \s*[\r\n]+: up to and including the last \r or \n of the whitespace run.
  size_t spaces_through_newline(size_t i) const {
    const size_t r = run(i, Cls::Space);
    for (size_t k = r; k > 0; --k)
      if (newline(i + k - 1)) return k;
    return 0;
  }

  size_t match_gpt2(size_t i) const {
    size_t k;
    if ((k = contraction(i, false))) return k;
    if ((k = space_then_run(i, Cls::Letter))) return k;
    if ((k = space_then_run(i, Cls::Number))) return k;
    if ((k = space_then_run(i, Cls::Other))) return k;
    if ((k = spaces_not_before_nonspace(i))) return k;
    return run(i, Cls::Space);
  }
  size_t match_llama(size_t i, size_t max_digits) const {
    size_t k;
    if ((k = contraction(i, true))) return k;
    if ((k = prefixed_letters(i))) return k;
    if ((k = run(i, Cls::Number))) return k < max_digits ? k : max_digits;
    if ((k = others_then_newlines(i))) return k;
    if ((k = spaces_through_newline(i))) return k;
    if ((k = spaces_not_before_nonspace(i))) return k;
    return run(i, Cls::Space);
  }
};

}  // namespace

std::optional<SplitPattern> recognise_split_pattern(const std::string& regex) {
  if (regex == kGpt2Regex) return SplitPattern::Gpt2;
  if (regex == kLlama3Regex) return SplitPattern::Llama3;
  if (regex == kQwen2Regex) return SplitPattern::Qwen2;
  return std::nullopt;
}

const char* split_pattern_name(SplitPattern pattern) {
  switch (pattern) {
    case SplitPattern::Gpt2: return "GPT-2";
    case SplitPattern::Llama3: return "Llama 3";
    case SplitPattern::Qwen2: return "Qwen2";
  }
  return "?";
}

std::vector<std::pair<size_t, size_t>> split_text(const std::string& text, SplitPattern pattern) {
  const std::vector<unicode::Unit> units = unicode::decode_utf8(text);
  Scanner s;
  s.n = units.size();
  s.cps.reserve(s.n);
  s.cls.reserve(s.n);
  for (const auto& u : units) {
    s.cps.push_back(u.cp);
    Cls c = Cls::Other;
    if (u.cp != unicode::kInvalid) {
      if (unicode::is_letter(u.cp)) c = Cls::Letter;
      else if (unicode::is_number(u.cp)) c = Cls::Number;
      else if (unicode::is_whitespace(u.cp)) c = Cls::Space;
    }
    s.cls.push_back(c);
  }
  std::vector<std::pair<size_t, size_t>> pieces;
  size_t i = 0;
  while (i < s.n) {
    size_t k = pattern == SplitPattern::Gpt2     ? s.match_gpt2(i)
               : pattern == SplitPattern::Llama3 ? s.match_llama(i, 3)
                                                 : s.match_llama(i, 1);
    if (k == 0) k = 1;  // cannot happen with these patterns (every character matches), kept as a guard
    const size_t begin = units[i].begin;
    const size_t end = i + k < s.n ? units[i + k].begin : text.size();
    pieces.emplace_back(begin, end);
    i += k;
  }
  return pieces;
}

}  // namespace memtx::data
