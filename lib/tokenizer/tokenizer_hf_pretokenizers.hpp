// tokenizer/tokenizer_hf_pretokenizers.hpp: the pre-tokenizers of Hugging Face tokenizer.json: Split (a regex or
// string pattern with its delimiter behaviour, optionally inverted), ByteLevel, Metaspace, Whitespace,
// WhitespaceSplit, CharDelimiterSplit, Digits, Punctuation, BertPreTokenizer and Sequence. Each cuts the
// pieces of a text segment into smaller pieces (empty pieces are dropped), as the reference library does.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/tokenizer_pretokenize.hpp"
#include "tokenizer/tokenizer_regex.hpp"

namespace memtx::data {

struct Piece {
  std::string text;
  bool at_start = false;  // begins at offset 0 of the original text (Metaspace's "first" scheme)
};

// What a split does with the matched delimiters.
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// Regroups find_matches spans by behaviour (the spans stay in order and cover the same text; empty ones
// are kept, callers drop them).
std::vector<PatternSpan> apply_behavior(std::vector<PatternSpan> spans, SplitBehavior behavior);

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(std::vector<Piece>& pieces) const = 0;
};
using PreTokenizerPtr = std::shared_ptr<const PreTokenizer>;

// Split: `known` names a pattern with a hand-written scanner (tokenizer_pretokenize.hpp), used instead of
// the regex engine for speed (same pieces).
PreTokenizerPtr make_split_pre_tokenizer(Pattern pattern, SplitBehavior behavior, bool invert);
// ByteLevel: ' ' in front of each piece not starting with one (add_prefix_space), the GPT-2 split
// (use_regex), then each byte mapped to its printable stand-in (byte_level_char).
PreTokenizerPtr make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex);
enum class PrependScheme { Always, First, Never };
// Metaspace: ' ' -> replacement, the replacement in front (per scheme), then split before each replacement.
PreTokenizerPtr make_metaspace_pre_tokenizer(std::string replacement, PrependScheme scheme, bool split);
PreTokenizerPtr make_whitespace_pre_tokenizer();        // \w+|[^\w\s]+ (Rust regex classes), the rest dropped
PreTokenizerPtr make_whitespace_split_pre_tokenizer();  // split on White_Space, removed
PreTokenizerPtr make_char_delimiter_pre_tokenizer(std::string delimiter);  // one character, removed
PreTokenizerPtr make_digits_pre_tokenizer(bool individual_digits);         // \p{N}: isolated or contiguous
PreTokenizerPtr make_punctuation_pre_tokenizer(SplitBehavior behavior);    // \p{P} and ASCII punctuation
PreTokenizerPtr make_bert_pre_tokenizer();  // WhitespaceSplit, then Punctuation (isolated)
PreTokenizerPtr make_sequence_pre_tokenizer(std::vector<PreTokenizerPtr> steps);

// GPT-2's byte-to-unicode table: printable Latin-1 bytes stand for themselves, the other 68 bytes take the
// code points 256, 257, ... in byte order. byte_of is -1 for a code point that stands for no byte.
char32_t byte_level_char(unsigned char byte);
int byte_level_byte(char32_t cp);

}  // namespace memtx::data
