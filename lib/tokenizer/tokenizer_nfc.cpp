// tokenizer/tokenizer_nfc.cpp: the normalization forms of UAX #15: canonical (NFC, NFD) or compatibility (NFKC,
// NFKD) decomposition, canonical ordering, and for NFC / NFKC canonical composition; Hangul syllables are
// handled arithmetically.
#include "tokenizer/tokenizer_nfc.hpp"

#include <cstddef>
#include <vector>

#include "tokenizer/tokenizer_unicode.hpp"

namespace memtx::data {
namespace {

constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
                   kSCount = kLCount * kNCount;

void decompose(char32_t cp, bool compat, std::vector<char32_t>& out) {
  if (compat) {
    const std::u32string_view full = unicode::compatibility_decomposition(cp);
    if (!full.empty()) {
      out.insert(out.end(), full.begin(), full.end());
      return;
    }
  }
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const char32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  const unicode::Decomposition* d = unicode::find_decomposition(cp);
  if (d == nullptr) {
    out.push_back(cp);
    return;
  }
  decompose(d->first, compat, out);
  if (d->second != 0) decompose(d->second, compat, out);
}

char32_t compose(char32_t first, char32_t second) {
  if (first >= kLBase && first < kLBase + kLCount && second >= kVBase && second < kVBase + kVCount)
    return kSBase + ((first - kLBase) * kVCount + (second - kVBase)) * kTCount;
  if (first >= kSBase && first < kSBase + kSCount && (first - kSBase) % kTCount == 0 && second > kTBase &&
      second < kTBase + kTCount)
    return first + (second - kTBase);
  return unicode::find_composition(first, second);
}

// Decomposes, orders and (when compose) recomposes one run of valid code points, appending UTF-8 to out.
void normalize_run(const std::vector<char32_t>& run, bool compat, bool compose_back, std::string& out) {
  std::vector<char32_t> d;
  d.reserve(run.size() + 8);
  for (char32_t cp : run) decompose(cp, compat, d);
  // Canonical ordering: a stable sort of each stretch of non-starters by combining class.
  for (size_t i = 1; i < d.size(); ++i) {
    const int cc = unicode::combining_class(d[i]);
    if (cc == 0) continue;
    size_t j = i;
    while (j > 0) {
      const int prev = unicode::combining_class(d[j - 1]);
      if (prev == 0 || prev <= cc) break;
      std::swap(d[j - 1], d[j]);
      --j;
    }
  }
  if (d.empty()) return;
  if (!compose_back) {
    for (char32_t cp : d) unicode::append_utf8(out, cp);
    return;
  }
  std::vector<char32_t> c;
  c.reserve(d.size());
  c.push_back(d[0]);
  size_t starter = 0;
  int last_class = unicode::combining_class(d[0]) == 0 ? 0 : 256;
  for (size_t i = 1; i < d.size(); ++i) {
    const int cc = unicode::combining_class(d[i]);
    if (last_class != 256 && (last_class < cc || last_class == 0)) {
      const char32_t composite = compose(c[starter], d[i]);
      if (composite != 0) {
        c[starter] = composite;
        continue;
      }
    }
    if (cc == 0) starter = c.size();
    last_class = cc;
    c.push_back(d[i]);
  }
  for (char32_t cp : c) unicode::append_utf8(out, cp);
}

}  // namespace

std::string normalize_form(const std::string& text, NormalForm form) {
  const bool compat = form == NormalForm::NFKC || form == NormalForm::NFKD;
  const bool compose_back = form == NormalForm::NFC || form == NormalForm::NFKC;
  const std::vector<unicode::Unit> units = unicode::decode_utf8(text);
  bool stable = true;  // below U+00A0 every form leaves the text as it is
  for (const auto& u : units)
    if (u.cp != unicode::kInvalid && u.cp >= 0xA0) stable = false;
  if (stable) return text;
  std::string out;
  out.reserve(text.size());
  std::vector<char32_t> run;
  for (const auto& u : units) {
    if (u.cp == unicode::kInvalid) {
      normalize_run(run, compat, compose_back, out);
      run.clear();
      out += text[u.begin];
    } else {
      run.push_back(u.cp);
    }
  }
  normalize_run(run, compat, compose_back, out);
  return out;
}

}  // namespace memtx::data
