// tokenizer/tokenizer_hf_normalizers.hpp: the normalizers of Hugging Face tokenizer.json: NFC, NFD, NFKC, NFKD,
// Lowercase, Replace, Prepend, Strip, StripAccents, BertNormalizer and Sequence. Each maps one text segment
// (the text between added tokens) to its normalized form; offsets are not tracked.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/tokenizer_nfc.hpp"
#include "tokenizer/tokenizer_regex.hpp"

namespace memtx::data {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual std::string normalize(const std::string& text) const = 0;
};
using NormalizerPtr = std::shared_ptr<const Normalizer>;

NormalizerPtr make_form_normalizer(NormalForm form);
NormalizerPtr make_lowercase_normalizer();                                    // full lowercase, char by char
NormalizerPtr make_replace_normalizer(Pattern pattern, std::string content);  // every match -> content
NormalizerPtr make_prepend_normalizer(std::string prefix);                    // non-empty texts only
NormalizerPtr make_strip_normalizer(bool left, bool right);                   // White_Space characters
NormalizerPtr make_strip_accents_normalizer();                                // drops combining marks (\p{M})
NormalizerPtr make_sequence_normalizer(std::vector<NormalizerPtr> steps);
// BERT's: clean_text drops controls and U+FFFD and turns whitespace into ' '; handle_chinese_chars puts
// spaces around CJK ideographs; strip_accents (NFD, then drop \p{Mn}); lowercase.
NormalizerPtr make_bert_normalizer(bool clean_text, bool handle_chinese_chars, bool strip_accents, bool lowercase);

}  // namespace memtx::data
