// tokenizer/tokenizer_bpe.hpp: Hugging Face tokenizer.json tokenizers (GPT-2, Llama 2 / 3, Mistral, Qwen2,
// GPT-NeoX, DeepSeek-V3, BERT, ...). The file is parsed into a BpeSpec (tokenizer_bpe_json.cpp): a model,
// added tokens and the normalizer / pre-tokenizer / decoder pipeline (tokenizer_hf_*.hpp), then served by
// the tokenizer (tokenizer_bpe.cpp).
//
// Supported: models BPE (vocab, merges as "a b" or [a, b], unk_token, fuse_unk, byte_fallback,
// ignore_merges, continuing_subword_prefix, end_of_word_suffix), WordPiece and Unigram; the normalizers,
// pre-tokenizers and decoders listed in tokenizer_hf_components_json.cpp, any Split regex through
// Oniguruma. Added tokens are split out of the raw text first (longest match, lstrip/rstrip/single_word;
// all are matched on the raw text, whatever their "normalized" flag). The post-processor is not applied:
// encode() never adds BOS/EOS (bos_id() says which id a model expects in front).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.hpp"
#include "tokenizer/tokenizer_hf_decoders.hpp"
#include "tokenizer/tokenizer_hf_models.hpp"
#include "tokenizer/tokenizer_hf_normalizers.hpp"
#include "tokenizer/tokenizer_hf_pretokenizers.hpp"
#include "tokenizer/tokenizer_specials.hpp"

namespace memtx::data {

struct BpeSpec {
  HfModelPtr model;
  std::vector<SpecialToken> added_tokens;
  std::vector<bool> added_is_special;
  NormalizerPtr normalizer;       // null: none
  PreTokenizerPtr pre_tokenizer;  // null: none
  DecoderPtr decoder;             // null: tokens joined with ' '
  std::optional<std::string> template_bos;  // first special token of a TemplateProcessing "single"
};

// Parses tokenizer.json text; `file` names it in errors: Error(Io) for malformed JSON or missing/mistyped
// fields, Error(Config) for features outside the supported set (naming the component type) and for a
// regex that does not compile (naming the pattern).
BpeSpec parse_tokenizer_json(const std::string& text, const std::string& file);

// config_json: the text of the tokenizer_config.json beside it (bos/eos/pad tokens), empty if none;
// config_file names it in errors.
std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeSpec spec, const std::string& config_json = "",
                                              const std::string& config_file = "");

}  // namespace memtx::data
