// tokenizer/tokenizer_pretokenize.hpp: the pre-tokenizer split patterns of byte-level BPE tokenizers (GPT-2,
// Llama 3, Qwen2), implemented as hand-written scanners with the regex semantics (ordered alternation,
// greedy quantifiers with backtracking, \s+(?!\S)) over Unicode categories. A tokenizer.json Split regex
// is recognised by its exact text and then split here, faster than the regex engine (tokenizer_regex.hpp),
// which runs every other pattern.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace memtx::data {

enum class SplitPattern {
  Gpt2,    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  Llama3,  // (?i:'s|...|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  Qwen2,   // as Llama3 with \p{N} (single digits)
};

// The pattern whose regex text is exactly `regex`, if any.
std::optional<SplitPattern> recognise_split_pattern(const std::string& regex);
const char* split_pattern_name(SplitPattern pattern);

// Splits text into consecutive pieces ([begin, end) byte ranges covering all of it), as a regex find-all
// with the pattern would, keeping the unmatched gaps ("Isolated"). Invalid UTF-8 bytes count as
// characters outside \p{L}, \p{N} and \s.
std::vector<std::pair<size_t, size_t>> split_text(const std::string& text, SplitPattern pattern);

}  // namespace memtx::data
