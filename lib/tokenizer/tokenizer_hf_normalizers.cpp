// tokenizer/tokenizer_hf_normalizers.cpp: the Hugging Face normalizers over UTF-8 strings (invalid bytes pass
// through every step unchanged).
#include "tokenizer/tokenizer_hf_normalizers.hpp"

#include "tokenizer/tokenizer_unicode.hpp"

namespace memtx::data {
namespace {

class FormNormalizer final : public Normalizer {
 public:
  explicit FormNormalizer(NormalForm form) : form_(form) {}
  std::string normalize(const std::string& text) const override { return normalize_form(text, form_); }

 private:
  NormalForm form_;
};

// Rewrites each valid code point with fn(cp, out); invalid bytes are copied.
template <typename Fn>
std::string map_code_points(const std::string& text, Fn&& fn) {
  std::string out;
  out.reserve(text.size());
  for (const unicode::Unit& u : unicode::decode_utf8(text)) {
    if (u.cp == unicode::kInvalid)
      out += text[u.begin];
    else
      fn(u.cp, out);
  }
  return out;
}

class LowercaseNormalizer final : public Normalizer {
 public:
  std::string normalize(const std::string& text) const override {
    return map_code_points(text, [](char32_t cp, std::string& out) {
      if (cp < 0x80) {
        out += static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
        return;
      }
      const std::u32string_view lower = unicode::lowercase_mapping(cp);
      if (lower.empty()) unicode::append_utf8(out, cp);
      for (char32_t c : lower) unicode::append_utf8(out, c);
    });
  }
};

class ReplaceNormalizer final : public Normalizer {
 public:
  ReplaceNormalizer(Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  std::string normalize(const std::string& text) const override {
    if (text.empty()) return text;
    std::string out;
    for (const PatternSpan& s : pattern_.find_matches(text))
      out += s.is_match ? content_ : text.substr(s.begin, s.end - s.begin);
    return out;
  }

 private:
  Pattern pattern_;
  std::string content_;
};

class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string normalize(const std::string& text) const override { return text.empty() ? text : prefix_ + text; }

 private:
  std::string prefix_;
};

class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  std::string normalize(const std::string& text) const override {
    const std::vector<unicode::Unit> units = unicode::decode_utf8(text);
    auto space = [](const unicode::Unit& u) { return u.cp != unicode::kInvalid && unicode::is_whitespace(u.cp); };
    size_t b = 0, e = units.size();
    if (left_)
      while (b < e && space(units[b])) ++b;
    if (right_)
      while (e > b && space(units[e - 1])) --e;
    if (b == e) return "";
    return text.substr(units[b].begin, units[e - 1].begin + units[e - 1].length - units[b].begin);
  }

 private:
  bool left_, right_;
};

class StripAccentsNormalizer final : public Normalizer {
 public:
  StripAccentsNormalizer() : marks_("\\p{M}") {}
  std::string normalize(const std::string& text) const override {
    return map_code_points(text, [&](char32_t cp, std::string& out) {
      if (!marks_.contains(cp)) unicode::append_utf8(out, cp);
    });
  }

 private:
  CharClass marks_;
};

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<NormalizerPtr> steps) : steps_(std::move(steps)) {}
  std::string normalize(const std::string& text) const override {
    std::string out = text;
    for (const NormalizerPtr& s : steps_) out = s->normalize(out);
    return out;
  }

 private:
  std::vector<NormalizerPtr> steps_;
};

bool is_chinese_char(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

class BertNormalizer final : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool chinese, bool strip_accents, bool lowercase)
      : clean_(clean_text),
        chinese_(chinese),
        strip_(strip_accents),
        lower_(lowercase),
        control_("[\\p{Cc}\\p{Cf}\\p{Cn}\\p{Co}]"),
        nonspacing_("\\p{Mn}") {}
  std::string normalize(const std::string& text) const override {
    std::string out = text;
    if (clean_)
      out = map_code_points(out, [&](char32_t cp, std::string& o) {
        const bool tab_or_newline = cp == '\t' || cp == '\n' || cp == '\r';
        if (cp == 0 || cp == 0xFFFD || (!tab_or_newline && control_.contains(cp))) return;
        if (tab_or_newline || unicode::is_whitespace(cp))
          o += ' ';
        else
          unicode::append_utf8(o, cp);
      });
    if (chinese_)
      out = map_code_points(out, [](char32_t cp, std::string& o) {
        if (!is_chinese_char(cp)) return unicode::append_utf8(o, cp);
        o += ' ';
        unicode::append_utf8(o, cp);
        o += ' ';
      });
    if (strip_)
      out = map_code_points(normalize_form(out, NormalForm::NFD), [&](char32_t cp, std::string& o) {
        if (!nonspacing_.contains(cp)) unicode::append_utf8(o, cp);
      });
    if (lower_) out = LowercaseNormalizer().normalize(out);
    return out;
  }

 private:
  bool clean_, chinese_, strip_, lower_;
  CharClass control_, nonspacing_;
};

}  // namespace

NormalizerPtr make_form_normalizer(NormalForm form) { return std::make_shared<FormNormalizer>(form); }
NormalizerPtr make_lowercase_normalizer() { return std::make_shared<LowercaseNormalizer>(); }
NormalizerPtr make_replace_normalizer(Pattern pattern, std::string content) {
  return std::make_shared<ReplaceNormalizer>(std::move(pattern), std::move(content));
}
NormalizerPtr make_prepend_normalizer(std::string prefix) {
  return std::make_shared<PrependNormalizer>(std::move(prefix));
}
NormalizerPtr make_strip_normalizer(bool left, bool right) { return std::make_shared<StripNormalizer>(left, right); }
NormalizerPtr make_strip_accents_normalizer() { return std::make_shared<StripAccentsNormalizer>(); }
NormalizerPtr make_sequence_normalizer(std::vector<NormalizerPtr> steps) {
  return std::make_shared<SequenceNormalizer>(std::move(steps));
}
NormalizerPtr make_bert_normalizer(bool clean_text, bool handle_chinese_chars, bool strip_accents, bool lowercase) {
  return std::make_shared<BertNormalizer>(clean_text, handle_chinese_chars, strip_accents, lowercase);
}

}  // namespace memtx::data
