// tokenizer/tokenizer_hf_components_json.cpp: the JSON forms of the Hugging Face normalizers, pre-tokenizers and
// decoders (field names and defaults as the reference library serializes them).
#include "tokenizer/tokenizer_hf_components_json.hpp"

#include "tokenizer/tokenizer_unicode.hpp"

namespace memtx::data {
namespace {

// {"String": s} or {"Regex": r}.
Pattern read_pattern(const Reader& r, const json& obj, const std::string& where) {
  const json& pattern = r.require(obj, "pattern", where);
  if (const json* s = r.find(pattern, "String")) return Pattern::literal(r.string(*s, where + ".pattern.String"));
  if (const json* re = r.find(pattern, "Regex"))
    return Pattern::regex(r.string(*re, where + ".pattern.Regex"), r.file() + ": " + where + " pattern");
  throw_io(r.file(), where + ".pattern must be {\"String\": ...} or {\"Regex\": ...}");
}

SplitBehavior read_behavior(const Reader& r, const json& obj, const std::string& where, SplitBehavior fallback) {
  const json* v = r.find(obj, "behavior");
  if (v == nullptr) return fallback;
  const std::string b = r.string(*v, where + ".behavior");
  if (b == "Removed") return SplitBehavior::Removed;
  if (b == "Isolated") return SplitBehavior::Isolated;
  if (b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (b == "Contiguous") return SplitBehavior::Contiguous;
  throw_io(r.file(), where + ".behavior \"" + b +
                         "\" is not one of Removed, Isolated, MergedWithPrevious, "
                         "MergedWithNext, Contiguous");
}

// Exactly one character (Metaspace replacement, Strip content, CharDelimiterSplit delimiter).
std::string read_char(const Reader& r, const json& obj, const char* key, const std::string& fallback,
                      const std::string& where) {
  const std::string c = r.optional_string(obj, key, fallback, where);
  if (unicode::decode_utf8(c).size() != 1) throw_io(r.file(), where + "." + key + " must be one character");
  return c;
}

// Metaspace's scheme: prepend_scheme, or the older add_prefix_space (false = never).
PrependScheme read_prepend_scheme(const Reader& r, const json& obj, const std::string& where) {
  PrependScheme scheme = PrependScheme::Always;
  if (const json* v = r.find(obj, "prepend_scheme")) {
    const std::string s = r.string(*v, where + ".prepend_scheme");
    if (s == "always")
      scheme = PrependScheme::Always;
    else if (s == "first")
      scheme = PrependScheme::First;
    else if (s == "never")
      scheme = PrependScheme::Never;
    else
      throw_io(r.file(), where + ".prepend_scheme \"" + s + "\" is not always, first or never");
  }
  if (!r.boolean(obj, "add_prefix_space", true, where)) scheme = PrependScheme::Never;
  return scheme;
}

const json& list_of(const Reader& r, const json& obj, const char* key, const std::string& where) {
  const json& list = r.require(obj, key, where);
  if (!list.is_array()) throw_io(r.file(), where + "." + key + " must be an array");
  return list;
}

// The components listed under `key` of a Sequence at `depth`, each read by read_one.
template <typename Ptr>
std::vector<Ptr> read_steps(const Reader& r, const json& obj, const char* key, const std::string& where, int depth,
                            Ptr (*read_one)(const Reader&, const json&, int)) {
  if (depth >= kMaxSequenceDepth)
    throw_io(r.file(), where + ": Sequences nested more than " + std::to_string(kMaxSequenceDepth) + " deep");
  std::vector<Ptr> steps;
  for (const json& item : list_of(r, obj, key, where)) steps.push_back(read_one(r, item, depth + 1));
  return steps;
}

}  // namespace

NormalizerPtr read_normalizer(const Reader& r, const json& n, int depth) {
  const std::string w = "normalizer";
  const std::string type = r.type(n, w);
  if (type == "NFC") return make_form_normalizer(NormalForm::NFC);
  if (type == "NFD") return make_form_normalizer(NormalForm::NFD);
  if (type == "NFKC") return make_form_normalizer(NormalForm::NFKC);
  if (type == "NFKD") return make_form_normalizer(NormalForm::NFKD);
  if (type == "Lowercase") return make_lowercase_normalizer();
  if (type == "StripAccents") return make_strip_accents_normalizer();
  if (type == "Strip")
    return make_strip_normalizer(r.boolean(n, "strip_left", true, w), r.boolean(n, "strip_right", true, w));
  if (type == "Prepend") return make_prepend_normalizer(r.string(r.require(n, "prepend", w), w + ".prepend"));
  if (type == "Replace")
    return make_replace_normalizer(read_pattern(r, n, "normalizer Replace"),
                                   r.string(r.require(n, "content", w), w + ".content"));
  if (type == "BertNormalizer") {
    const bool lowercase = r.boolean(n, "lowercase", true, w);
    return make_bert_normalizer(r.boolean(n, "clean_text", true, w), r.boolean(n, "handle_chinese_chars", true, w),
                                r.boolean(n, "strip_accents", lowercase, w), lowercase);
  }
  if (type == "Sequence") return make_sequence_normalizer(read_steps(r, n, "normalizers", w, depth, read_normalizer));
  throw_unsupported(r.file(), "normalizer \"" + type +
                                  "\" (implemented: NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Prepend, "
                                  "Replace, BertNormalizer, Sequence)");
}

PreTokenizerPtr read_pre_tokenizer(const Reader& r, const json& p, int depth) {
  const std::string w = "pre_tokenizer";
  const std::string type = r.type(p, w);
  if (type == "ByteLevel")
    return make_byte_level_pre_tokenizer(r.boolean(p, "add_prefix_space", true, w), r.boolean(p, "use_regex", true, w));
  if (type == "Split")
    return make_split_pre_tokenizer(read_pattern(r, p, "pre_tokenizer Split"),
                                    read_behavior(r, p, w, SplitBehavior::Isolated), r.boolean(p, "invert", false, w));
  if (type == "Metaspace")
    return make_metaspace_pre_tokenizer(read_char(r, p, "replacement", "\xE2\x96\x81", w), read_prepend_scheme(r, p, w),
                                        r.boolean(p, "split", true, w));
  if (type == "Whitespace") return make_whitespace_pre_tokenizer();
  if (type == "WhitespaceSplit") return make_whitespace_split_pre_tokenizer();
  if (type == "BertPreTokenizer") return make_bert_pre_tokenizer();
  if (type == "CharDelimiterSplit") return make_char_delimiter_pre_tokenizer(read_char(r, p, "delimiter", "", w));
  if (type == "Digits") return make_digits_pre_tokenizer(r.boolean(p, "individual_digits", false, w));
  if (type == "Punctuation") return make_punctuation_pre_tokenizer(read_behavior(r, p, w, SplitBehavior::Isolated));
  if (type == "Sequence")
    return make_sequence_pre_tokenizer(read_steps(r, p, "pretokenizers", w, depth, read_pre_tokenizer));
  throw_unsupported(r.file(), "pre-tokenizer \"" + type +
                                  "\" (implemented: ByteLevel, Split, Metaspace, Whitespace, WhitespaceSplit, "
                                  "BertPreTokenizer, CharDelimiterSplit, Digits, Punctuation, Sequence)");
}

DecoderPtr read_decoder(const Reader& r, const json& d, int depth) {
  const std::string w = "decoder";
  const std::string type = r.type(d, w);
  if (type == "ByteLevel") return make_byte_level_decoder();
  if (type == "Metaspace")
    return make_metaspace_decoder(read_char(r, d, "replacement", "\xE2\x96\x81", w), read_prepend_scheme(r, d, w));
  if (type == "ByteFallback") return make_byte_fallback_decoder();
  if (type == "Fuse") return make_fuse_decoder();
  if (type == "Replace")
    return make_replace_decoder(read_pattern(r, d, "decoder Replace"),
                                r.string(r.require(d, "content", w), w + ".content"));
  if (type == "Strip")
    return make_strip_decoder(read_char(r, d, "content", " ", w), r.count(d, "start", 0, w), r.count(d, "stop", 0, w));
  if (type == "WordPiece")
    return make_wordpiece_decoder(r.optional_string(d, "prefix", "##", w), r.boolean(d, "cleanup", true, w));
  if (type == "BPEDecoder") return make_bpe_decoder(r.optional_string(d, "suffix", "</w>", w));
  if (type == "Sequence") return make_sequence_decoder(read_steps(r, d, "decoders", w, depth, read_decoder));
  throw_unsupported(r.file(), "decoder \"" + type +
                                  "\" (implemented: ByteLevel, Metaspace, ByteFallback, Fuse, Replace, Strip, "
                                  "WordPiece, BPEDecoder, Sequence)");
}

}  // namespace memtx::data
