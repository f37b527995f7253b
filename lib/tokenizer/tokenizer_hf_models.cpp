// tokenizer/tokenizer_hf_models.cpp: the WordPiece and Unigram models of Hugging Face tokenizer.json.
#include "tokenizer/tokenizer_hf_models.hpp"

#include <algorithm>
#include <limits>

#include "tokenizer/tokenizer_trie.hpp"
#include "tokenizer/tokenizer_unicode.hpp"

namespace memtx::data {
namespace {

class WordPieceModel final : public HfModel {
 public:
  explicit WordPieceModel(WordPieceSpec spec) : HfModel(std::move(spec.id_to_token)), spec_(std::move(spec)) {
    unk_ = token_to_id(spec_.unk_token);
    for (const std::string& t : id_to_token_) longest_ = std::max(longest_, t.size());
  }
  const char* type() const override { return "WordPiece"; }

  // Longest vocabulary prefix first, the rest with the continuing prefix; the whole piece becomes unk when
  // some part matches nothing or the piece is longer than max_input_chars_per_word.
  void tokenize(const std::string& piece, std::vector<int64_t>& ids) const override {
    if (piece.empty()) return;
    const std::vector<unicode::Unit> units = unicode::decode_utf8(piece);
    std::vector<int64_t> sub;
    bool bad = units.size() > spec_.max_input_chars_per_word;
    for (size_t start = 0; !bad && start < units.size();) {
      // No candidate longer than the longest vocabulary token can match: O(length x longest token) in all.
      const size_t prefix = start > 0 ? spec_.continuing_subword_prefix.size() : 0;
      size_t end = start;
      while (end < units.size() && prefix + units[end].begin + units[end].length - units[start].begin <= longest_)
        ++end;
      std::optional<int32_t> found;
      for (; end > start; --end) {
        const size_t b = units[start].begin, e = units[end - 1].begin + units[end - 1].length;
        std::string s = piece.substr(b, e - b);
        if (start > 0) s = spec_.continuing_subword_prefix + s;
        if ((found = token_to_id(s))) break;
      }
      if (!found)
        bad = true;
      else
        sub.push_back(*found);
      start = end;
    }
    if (bad) {
      if (unk_) ids.push_back(*unk_);  // the reference fails without an unk token; memtx drops the piece
      return;
    }
    ids.insert(ids.end(), sub.begin(), sub.end());
  }

 private:
  WordPieceSpec spec_;
  std::optional<int32_t> unk_;
  size_t longest_ = 0;  // bytes of the longest vocabulary token
};

std::vector<std::string> unigram_tokens(const UnigramSpec& spec) {
  std::vector<std::string> tokens;
  tokens.reserve(spec.pieces.size());
  for (const auto& p : spec.pieces) tokens.push_back(p.first);
  return tokens;
}

class UnigramModel final : public HfModel {
 public:
  explicit UnigramModel(UnigramSpec spec) : HfModel(unigram_tokens(spec)), spec_(std::move(spec)) {
    double min_score = std::numeric_limits<double>::infinity();
    for (const auto& [token, score] : spec_.pieces) {
      min_score = std::min(min_score, score);
      if (auto id = token_to_id(token)) trie_.insert(token, *id);
    }
    unk_score_ = min_score - 10.0;  // the reference's unknown-piece penalty
    for (int b = 0; b < 256; ++b) {
      static const char* const kHex = "0123456789ABCDEF";
      byte_ids_[b] = token_to_id(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">").value_or(-1);
    }
  }
  const char* type() const override { return "Unigram"; }

  void tokenize(const std::string& piece, std::vector<int64_t>& ids) const override {
    if (piece.empty()) return;
    struct Node {
      int32_t id = -1;
      double score = 0;
      int64_t start = -1;  // -1: not reached
    };
    const size_t n = piece.size();
    std::vector<Node> best(n + 1);
    for (size_t at = 0; at < n;) {
      const double here = best[at].score;
      size_t len = unicode::utf8_sequence_length(piece, at);
      if (len == 0) len = 1;
      bool single = false;
      trie_.prefixes(piece, at, [&](size_t k, int32_t id) {
        Node& target = best[at + k];
        const double candidate = spec_.pieces[static_cast<size_t>(id)].second + here;
        if (target.start < 0 || candidate > target.score) target = {id, candidate, static_cast<int64_t>(at)};
        if (k == len) single = true;
      });
      if (!single) {
        Node& target = best[at + len];
        const double candidate = unk_score_ + here;
        if (target.start < 0 || candidate > target.score)
          target = {spec_.unk_id.value_or(-1), candidate, static_cast<int64_t>(at)};
      }
      at += len;
    }
    // Back from the end; consecutive unknown pieces fuse into one.
    std::vector<std::pair<size_t, size_t>> spans;  // [begin, end) of each result piece, reversed
    std::vector<bool> unknown;
    for (size_t end = n; end > 0;) {
      const Node& node = best[end];
      const auto begin = static_cast<size_t>(node.start);
      const bool is_unk = node.id < 0 || (spec_.unk_id && node.id == *spec_.unk_id);
      if (is_unk && !unknown.empty() && unknown.back())
        spans.back().first = begin;
      else {
        spans.emplace_back(begin, end);
        unknown.push_back(is_unk);
      }
      end = begin;
    }
    for (size_t i = spans.size(); i-- > 0;) {
      const std::string s = piece.substr(spans[i].first, spans[i].second - spans[i].first);
      if (auto id = token_to_id(s)) {
        ids.push_back(*id);
        continue;
      }
      if (spec_.byte_fallback) {
        bool all = true;
        for (unsigned char c : s) all = all && byte_ids_[c] >= 0;
        if (all) {
          for (unsigned char c : s) ids.push_back(byte_ids_[c]);
          continue;
        }
      }
      if (spec_.unk_id) ids.push_back(*spec_.unk_id);
    }
  }

 private:
  UnigramSpec spec_;
  ByteTrie trie_;
  double unk_score_ = 0;
  int32_t byte_ids_[256];
};

}  // namespace

HfModelPtr make_wordpiece_model(WordPieceSpec spec) { return std::make_shared<WordPieceModel>(std::move(spec)); }
HfModelPtr make_unigram_model(UnigramSpec spec) { return std::make_shared<UnigramModel>(std::move(spec)); }

}  // namespace memtx::data
