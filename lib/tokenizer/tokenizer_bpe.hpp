// tokenizer/tokenizer_bpe.hpp: Hugging Face tokenizer.json byte-level BPE (GPT-2, Llama 3, Qwen2). The file is
// parsed into a BpeSpec (tokenizer_bpe_json.cpp), then served by the tokenizer (tokenizer_bpe.cpp).
//
// Supported: model BPE (vocab, merges as "a b" or [a, b], unk_token, ignore_merges); normalizer none or
// NFC; pre-tokenizer ByteLevel (with or without its GPT-2 regex, add_prefix_space) optionally preceded by
// Split with the GPT-2, Llama 3 or Qwen2 regex (behavior Isolated); decoder ByteLevel; added tokens (split
// out of the raw text first, longest match, lstrip/rstrip/single_word; all are matched on the raw text,
// whatever their "normalized" flag). The post-processor is not applied: encode() never adds BOS/EOS
// (bos_id() says which id a model expects in front).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.hpp"
#include "tokenizer/tokenizer_pretokenize.hpp"
#include "tokenizer/tokenizer_specials.hpp"

namespace memtx::data {

struct BpePreTokenizeStep {
  std::optional<SplitPattern> pattern;  // split each piece with this pattern
  bool add_prefix_space = false;        // first prepend ' ' to each piece not starting with one
};

struct BpeMerge {
  int32_t left;
  int32_t right;
  int32_t merged;  // the id of left + right
};

struct BpeSpec {
  std::vector<std::string> id_to_token;  // model vocabulary by id ("" for unused ids)
  std::vector<BpeMerge> merges;          // in rank order
  std::vector<SpecialToken> added_tokens;
  std::vector<bool> added_is_special;
  std::vector<BpePreTokenizeStep> pre_tokenize;
  bool nfc = false;
  bool ignore_merges = false;
  std::optional<int32_t> unk_id;
  std::optional<std::string> template_bos;  // first special token of a TemplateProcessing "single"
};

// Parses tokenizer.json text; `file` names it in errors: Error(Io) for malformed JSON or missing/mistyped
// fields, Error(Config) for features outside the supported set.
BpeSpec parse_tokenizer_json(const std::string& text, const std::string& file);

// config_json: the text of the tokenizer_config.json beside it (bos/eos/pad tokens), empty if none;
// config_file names it in errors.
std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeSpec spec, const std::string& config_json = "",
                                              const std::string& config_file = "");

}  // namespace memtx::data
