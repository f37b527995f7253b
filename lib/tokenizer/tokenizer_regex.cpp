// tokenizer/tokenizer_regex.cpp: Pattern and CharClass over Oniguruma (onig_new with ONIG_SYNTAX_DEFAULT and
// UTF-8, onig_search_with_param under a retry limit per search).
#include "tokenizer/tokenizer_regex.hpp"

#include <oniguruma.h>

#include <chrono>
#include <mutex>

#include "memtx/error.hpp"
#include "tokenizer/tokenizer_unicode.hpp"

namespace memtx::data {

struct Pattern::Compiled {
  OnigRegex regex = nullptr;
  ~Compiled() {
    if (regex) onig_free(regex);
  }
};

namespace {

void initialize_oniguruma() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

std::string onig_message(int code, OnigErrorInfo* info) {
  OnigUChar buf[ONIG_MAX_ERROR_MESSAGE_LEN];
  if (info)
    onig_error_code_to_str(buf, code, info);
  else
    onig_error_code_to_str(buf, code);
  return reinterpret_cast<const char*>(buf);
}

// Frees an OnigMatchParam on scope exit.
struct MatchParam {
  OnigMatchParam* p = onig_new_match_param();
  MatchParam() {
    if (p == nullptr) throw Error(StatusCode::OutOfMemory, "tokenizer: cannot allocate a regex match parameter");
    onig_initialize_match_param(p);
    onig_set_retry_limit_in_match_of_match_param(p, Pattern::kRetryLimit);
    onig_set_retry_limit_in_search_of_match_param(p, Pattern::kRetryLimit);
  }
  ~MatchParam() { onig_free_match_param(p); }
  MatchParam(const MatchParam&) = delete;
  MatchParam& operator=(const MatchParam&) = delete;
};

// text with each byte of an invalid UTF-8 sequence replaced by U+001A (storage holds the copy when needed).
std::string_view valid_utf8(std::string_view text, std::string& storage) {
  for (size_t i = 0; i < text.size();) {
    const size_t len = unicode::utf8_sequence_length(text, i);
    if (len > 0) {
      i += len;
      continue;
    }
    if (storage.empty()) storage.assign(text);
    storage[i++] = '\x1A';
  }
  return storage.empty() ? text : std::string_view(storage);
}

struct Region {
  OnigRegion* r = onig_region_new();
  ~Region() { onig_region_free(r, 1); }
};

}  // namespace

Pattern Pattern::regex(const std::string& pattern, const std::string& what) {
  if (pattern.size() > kMaxPatternBytes)
    throw Error(StatusCode::Config, what + ": regex of " + std::to_string(pattern.size()) + " bytes is over the " +
                                        std::to_string(kMaxPatternBytes) + "-byte limit");
  initialize_oniguruma();
  auto compiled = std::make_shared<Compiled>();
  OnigErrorInfo info;
  const auto* begin = reinterpret_cast<const OnigUChar*>(pattern.data());
  const int rc = onig_new(&compiled->regex, begin, begin + pattern.size(), ONIG_OPTION_NONE, ONIG_ENCODING_UTF8,
                          ONIG_SYNTAX_DEFAULT, &info);
  if (rc != ONIG_NORMAL) {
    compiled->regex = nullptr;
    throw Error(StatusCode::Config, what + ": invalid regex " + pattern + ": " + onig_message(rc, &info));
  }
  Pattern p;
  p.text_ = pattern;
  p.compiled_ = std::move(compiled);
  return p;
}

Pattern Pattern::literal(const std::string& text) {
  Pattern p;
  p.text_ = text;
  return p;
}

std::optional<std::pair<size_t, size_t>> Pattern::search(std::string_view text, size_t from) const {
  std::string storage;
  return search_valid(compiled_ ? valid_utf8(text, storage) : text, from);
}

std::optional<std::pair<size_t, size_t>> Pattern::search_valid(std::string_view text, size_t from) const {
  if (from > text.size()) return std::nullopt;
  if (!compiled_) {
    const size_t at = text.find(text_, from);
    if (at == std::string_view::npos) return std::nullopt;
    return std::make_pair(at, at + text_.size());
  }
  const auto* str = reinterpret_cast<const OnigUChar*>(text.data());
  const OnigUChar* end = str + text.size();
  Region region;
  MatchParam param;
  if (region.r == nullptr) throw Error(StatusCode::OutOfMemory, "tokenizer: cannot allocate a regex region");
  const int rc =
      onig_search_with_param(compiled_->regex, str, end, str + from, end, region.r, ONIG_OPTION_NONE, param.p);
  if (rc == ONIG_MISMATCH) return std::nullopt;
  if (rc < 0)
    throw Error(StatusCode::InvalidArgument, "tokenizer: regex " + text_ + " failed on a text of " +
                                                 std::to_string(text.size()) + " bytes: " + onig_message(rc, nullptr) +
                                                 " (the pattern backtracks too much)");
  return std::make_pair(static_cast<size_t>(region.r->beg[0]), static_cast<size_t>(region.r->end[0]));
}

std::vector<PatternSpan> Pattern::find_matches(std::string_view original) const {
  if (original.empty()) return {{0, 0, false}};
  std::string storage;
  const std::string_view text = compiled_ ? valid_utf8(original, storage) : original;
  const auto start = std::chrono::steady_clock::now();
  const double budget = kBudgetSeconds + kBudgetPerByte * static_cast<double>(text.size());
  std::vector<PatternSpan> spans;
  size_t prev = 0;  // end of the last span pushed
  size_t from = 0;
  std::optional<size_t> last_match_end;
  while (from <= text.size()) {
    if (compiled_ && std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > budget)
      throw Error(StatusCode::InvalidArgument, "tokenizer: regex " + text_ + " took over " + std::to_string(budget) +
                                                   " s on a text of " + std::to_string(text.size()) +
                                                   " bytes (the pattern backtracks too much)");
    const auto m = search_valid(text, from);
    if (!m) break;
    const auto [s, e] = *m;
    if (s == e && last_match_end == e) {
      // An empty match where the previous one ended: step over one character and search again.
      const size_t len = from < text.size() ? unicode::utf8_sequence_length(text, from) : 1;
      from += len == 0 ? 1 : len;
      continue;
    }
    from = e;
    last_match_end = e;
    if (prev != s) spans.push_back({prev, s, false});
    spans.push_back({s, e, true});
    prev = e;
  }
  if (prev != text.size()) spans.push_back({prev, text.size(), false});
  return spans;
}

CharClass::CharClass(const std::string& regex_class) : pattern_(Pattern::regex(regex_class, "character class")) {
  for (int c = 0; c < 128; ++c) {
    const char s[1] = {static_cast<char>(c)};
    const auto m = pattern_.search(std::string_view(s, 1), 0);
    ascii_[c] = m && m->first == 0 && m->second == 1;
  }
}

bool CharClass::contains(char32_t cp) const {
  if (cp < 128) return ascii_[cp];
  if (cp == unicode::kInvalid) return false;
  std::string s;
  unicode::append_utf8(s, cp);
  const auto m = pattern_.search(s, 0);
  return m && m->first == 0 && m->second == s.size();
}

}  // namespace memtx::data
