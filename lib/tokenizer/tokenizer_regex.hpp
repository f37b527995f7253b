// tokenizer/tokenizer_regex.hpp: the patterns of Hugging Face tokenizer.json (Split and Replace "Regex" / "String"
// patterns, and the character classes of the built-in pre-tokenizers) over Oniguruma, the engine the
// reference `tokenizers` library uses, with its default syntax and UTF-8. Every search runs under a retry
// limit, and a find-all under a time budget linear in the text, so a pattern that backtracks catastrophically
// fails with an Error naming it instead of hanging. Oniguruma only ever sees valid UTF-8: each byte of an
// invalid sequence is searched as U+001A (SUBSTITUTE), one byte long, so spans keep their offsets.
#pragma once
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace memtx::data {

// One span of a text as a pattern cuts it: [begin, end), and whether the pattern matched it.
struct PatternSpan {
  size_t begin;
  size_t end;
  bool is_match;
};

class Pattern {
 public:
  // A regular expression; Error(Config) naming `what` and the pattern when it does not compile or is over
  // kMaxPatternBytes.
  static Pattern regex(const std::string& pattern, const std::string& what);
  // A literal string, matched as written.
  static Pattern literal(const std::string& text);

  // The leftmost match starting at or after `from` (the whole text stays visible to look-arounds), nullopt
  // when none. Error(InvalidArgument) naming the pattern when the search exceeds the retry limit.
  std::optional<std::pair<size_t, size_t>> search(std::string_view text, size_t from) const;
  // Every match, left to right, as Hugging Face's find-all does it (an empty match right where the
  // previous match ended is skipped), with the gaps between them: spans covering the whole text in order
  // (one empty non-match span for an empty text). Error(InvalidArgument) naming the pattern when a search
  // exceeds the retry limit or all of them together take longer than kBudgetSeconds + kBudgetPerByte x size.
  std::vector<PatternSpan> find_matches(std::string_view text) const;
  const std::string& text() const { return text_; }  // the pattern as written

  static constexpr size_t kMaxPatternBytes = 64 * 1024;
  static constexpr unsigned long kRetryLimit = 10'000'000;  // per search, as the `onig` crate's default
  static constexpr double kBudgetSeconds = 2.0;
  static constexpr double kBudgetPerByte = 10e-6;

 private:
  struct Compiled;
  // search() over text already made valid UTF-8.
  std::optional<std::pair<size_t, size_t>> search_valid(std::string_view text, size_t from) const;
  std::string text_;
  std::shared_ptr<const Compiled> compiled_;  // null for a literal
};

// A set of code points given by a one-character regex class (e.g. "\\p{P}"), answered from a table for
// ASCII and by the regex beyond.
class CharClass {
 public:
  explicit CharClass(const std::string& regex_class);
  bool contains(char32_t cp) const;

 private:
  Pattern pattern_;
  bool ascii_[128];
};

}  // namespace memtx::data
