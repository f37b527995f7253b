// tokenizer/tokenizer_hf_pretokenizers.cpp: the Hugging Face pre-tokenizers. A split maps each piece to the
// spans a pattern cuts it into, regrouped by the delimiter behaviour; a piece keeps at_start only for the
// span at its offset 0.
#include "tokenizer/tokenizer_hf_pretokenizers.hpp"

#include "tokenizer/tokenizer_unicode.hpp"

namespace memtx::data {
namespace {

// Cuts every piece with cut(text) -> spans, drops empty spans.
template <typename Cut>
void split_pieces(std::vector<Piece>& pieces, Cut&& cut) {
  std::vector<Piece> out;
  out.reserve(pieces.size());
  for (Piece& p : pieces) {
    for (const PatternSpan& s : cut(p.text)) {
      if (s.end == s.begin) continue;
      out.push_back({p.text.substr(s.begin, s.end - s.begin), p.at_start && s.begin == 0});
    }
  }
  pieces = std::move(out);
}

class SplitPreTokenizer final : public PreTokenizer {
 public:
  SplitPreTokenizer(Pattern pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)),
        behavior_(behavior),
        invert_(invert),
        known_(recognise_split_pattern(pattern_.text())) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    split_pieces(pieces, [&](const std::string& text) {
      std::vector<PatternSpan> spans;
      if (known_ && !text.empty()) {
        for (const auto& [b, e] : split_text(text, *known_)) spans.push_back({b, e, true});
      } else {
        spans = pattern_.find_matches(text);
      }
      if (invert_)
        for (PatternSpan& s : spans) s.is_match = !s.is_match;
      return apply_behavior(std::move(spans), behavior_);
    });
  }

 private:
  Pattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
  std::optional<SplitPattern> known_;
};

const char* const kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space),
        split_(use_regex ? std::make_optional(SplitPreTokenizer(Pattern::regex(kGpt2Pattern, "ByteLevel"),
                                                                SplitBehavior::Isolated, false))
                         : std::nullopt) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    if (add_prefix_space_)
      for (Piece& p : pieces)
        if (p.text.empty() || p.text[0] != ' ') p.text.insert(p.text.begin(), ' ');
    if (split_) split_->pre_tokenize(pieces);
    for (Piece& p : pieces) {
      std::string mapped;
      mapped.reserve(p.text.size() * 2);
      for (unsigned char b : p.text) unicode::append_utf8(mapped, byte_level_char(b));
      p.text = std::move(mapped);
    }
  }

 private:
  bool add_prefix_space_;
  std::optional<SplitPreTokenizer> split_;
};

class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)),
        scheme_(scheme),
        split_(split),
        pattern_(Pattern::literal(replacement_)) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for (Piece& p : pieces) {
      std::string replaced;
      replaced.reserve(p.text.size() + replacement_.size());
      for (char c : p.text) {
        if (c == ' ')
          replaced += replacement_;
        else
          replaced += c;
      }
      const bool starts = replaced.compare(0, replacement_.size(), replacement_) == 0;
      if (!starts && (scheme_ == PrependScheme::Always || (scheme_ == PrependScheme::First && p.at_start)))
        replaced.insert(0, replacement_);
      p.text = std::move(replaced);
    }
    if (split_)
      split_pieces(pieces, [&](const std::string& text) {
        return apply_behavior(pattern_.find_matches(text), SplitBehavior::MergedWithNext);
      });
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
  Pattern pattern_;
};

// A split with a fixed pattern and behaviour (the character-class pre-tokenizers).
class ClassPreTokenizer final : public PreTokenizer {
 public:
  ClassPreTokenizer(const std::string& regex, SplitBehavior behavior, bool invert)
      : split_(Pattern::regex(regex, "pre-tokenizer"), behavior, invert) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override { split_.pre_tokenize(pieces); }

 private:
  SplitPreTokenizer split_;
};

class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<PreTokenizerPtr> steps) : steps_(std::move(steps)) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for (const PreTokenizerPtr& s : steps_) s->pre_tokenize(pieces);
  }

 private:
  std::vector<PreTokenizerPtr> steps_;
};

// Rust's \w (the `regex` crate, which the Whitespace pre-tokenizer uses) and char::is_whitespace.
const char* const kWord = R"(\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control})";
const char* const kPunctuation = R"([\p{P}\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E])";

struct ByteTable {
  char32_t byte_to_cp[256];
  int16_t cp_to_byte[324];
  ByteTable() {
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      byte_to_cp[b] = printable ? static_cast<char32_t>(b) : next++;
    }
    for (auto& v : cp_to_byte) v = -1;
    for (int b = 0; b < 256; ++b) cp_to_byte[byte_to_cp[b]] = static_cast<int16_t>(b);
  }
};
const ByteTable& byte_table() {
  static const ByteTable table;
  return table;
}

}  // namespace

std::vector<PatternSpan> apply_behavior(std::vector<PatternSpan> spans, SplitBehavior behavior) {
  std::vector<PatternSpan> out;
  out.reserve(spans.size());
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::Isolated:
      return spans;
    case SplitBehavior::Removed:
      for (const PatternSpan& s : spans)
        if (!s.is_match) out.push_back(s);
      return out;
    case SplitBehavior::MergedWithPrevious:
      for (const PatternSpan& s : spans) {
        if (s.is_match && !previous_match && !out.empty())
          out.back().end = s.end;
        else
          out.push_back(s);
        previous_match = s.is_match;
      }
      return out;
    case SplitBehavior::MergedWithNext:
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->is_match && !previous_match && !out.empty())
          out.back().begin = it->begin;
        else
          out.push_back(*it);
        previous_match = it->is_match;
      }
      return {out.rbegin(), out.rend()};
    case SplitBehavior::Contiguous:
      for (const PatternSpan& s : spans) {
        if (s.is_match == previous_match && !out.empty())
          out.back().end = s.end;
        else
          out.push_back(s);
        previous_match = s.is_match;
      }
      return out;
  }
  return spans;
}

PreTokenizerPtr make_split_pre_tokenizer(Pattern pattern, SplitBehavior behavior, bool invert) {
  return std::make_shared<SplitPreTokenizer>(std::move(pattern), behavior, invert);
}
PreTokenizerPtr make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex) {
  return std::make_shared<ByteLevelPreTokenizer>(add_prefix_space, use_regex);
}
PreTokenizerPtr make_metaspace_pre_tokenizer(std::string replacement, PrependScheme scheme, bool split) {
  return std::make_shared<MetaspacePreTokenizer>(std::move(replacement), scheme, split);
}
PreTokenizerPtr make_whitespace_pre_tokenizer() {
  const std::string word = kWord;
  return std::make_shared<ClassPreTokenizer>("[" + word + "]+|[^" + word + R"(\p{White_Space}]+)",
                                             SplitBehavior::Removed, true);
}
PreTokenizerPtr make_whitespace_split_pre_tokenizer() {
  return std::make_shared<ClassPreTokenizer>(R"(\p{White_Space})", SplitBehavior::Removed, false);
}
PreTokenizerPtr make_char_delimiter_pre_tokenizer(std::string delimiter) {
  return make_split_pre_tokenizer(Pattern::literal(std::move(delimiter)), SplitBehavior::Removed, false);
}
PreTokenizerPtr make_digits_pre_tokenizer(bool individual_digits) {
  return std::make_shared<ClassPreTokenizer>(
      R"(\p{N})", individual_digits ? SplitBehavior::Isolated : SplitBehavior::Contiguous, false);
}
PreTokenizerPtr make_punctuation_pre_tokenizer(SplitBehavior behavior) {
  return std::make_shared<ClassPreTokenizer>(kPunctuation, behavior, false);
}
PreTokenizerPtr make_bert_pre_tokenizer() {
  return make_sequence_pre_tokenizer(
      {make_whitespace_split_pre_tokenizer(), make_punctuation_pre_tokenizer(SplitBehavior::Isolated)});
}
PreTokenizerPtr make_sequence_pre_tokenizer(std::vector<PreTokenizerPtr> steps) {
  return std::make_shared<SequencePreTokenizer>(std::move(steps));
}

char32_t byte_level_char(unsigned char byte) { return byte_table().byte_to_cp[byte]; }
int byte_level_byte(char32_t cp) { return cp < 324 ? byte_table().cp_to_byte[cp] : -1; }

}  // namespace memtx::data
