// tokenizer/tokenizer_hf_models.hpp: the models of Hugging Face tokenizer.json, which turn one pre-tokenized piece
// into ids: BPE (merges by rank; unk_token, fuse_unk, byte_fallback, continuing_subword_prefix,
// end_of_word_suffix, ignore_merges), WordPiece (greedy longest match) and Unigram (Viterbi over piece
// scores; unk, byte_fallback). The specs are filled and checked by tokenizer_hf_json.cpp.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace memtx::data {

class HfModel {
 public:
  virtual ~HfModel() = default;
  virtual void tokenize(const std::string& piece, std::vector<int64_t>& ids) const = 0;
  virtual const char* type() const = 0;  // "BPE", "WordPiece", "Unigram"
  // The vocabulary by id ("" for unused ids).
  const std::vector<std::string>& id_to_token() const { return id_to_token_; }
  std::optional<int32_t> token_to_id(const std::string& token) const {
    auto it = token_to_id_.find(token);
    return it == token_to_id_.end() ? std::nullopt : std::optional<int32_t>(it->second);
  }

 protected:
  // Takes the vocabulary; for a token given twice the last id wins the token -> id lookup.
  explicit HfModel(std::vector<std::string> id_to_token);
  std::vector<std::string> id_to_token_;
  std::unordered_map<std::string, int32_t> token_to_id_;
};
using HfModelPtr = std::shared_ptr<const HfModel>;

struct BpeMerge {
  int32_t left;
  int32_t right;
  int32_t merged;  // the id of left + right (less right's continuing_subword_prefix)
};

struct BpeModelSpec {
  std::vector<std::string> id_to_token;
  std::vector<BpeMerge> merges;  // in rank order
  std::optional<int32_t> unk_id;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
};
HfModelPtr make_bpe_model(BpeModelSpec spec);

struct WordPieceSpec {
  std::vector<std::string> id_to_token;
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  size_t max_input_chars_per_word = 100;
};
HfModelPtr make_wordpiece_model(WordPieceSpec spec);

struct UnigramSpec {
  std::vector<std::pair<std::string, double>> pieces;  // by id
  std::optional<int32_t> unk_id;
  bool byte_fallback = false;
};
HfModelPtr make_unigram_model(UnigramSpec spec);

}  // namespace memtx::data
