// tokenizer/tokenizer_hf_bpe_model.cpp: the BPE model of Hugging Face tokenizer.json: each character of the piece
// becomes its vocabulary id (or its <0xXX> byte tokens, or unk), then the merges apply by rank; results are
// cached per piece.
#include <mutex>

#include "tokenizer/tokenizer_hf_models.hpp"
#include "tokenizer/tokenizer_merge.hpp"
#include "tokenizer/tokenizer_unicode.hpp"

namespace memtx::data {

HfModel::HfModel(std::vector<std::string> id_to_token) : id_to_token_(std::move(id_to_token)) {
  for (size_t id = 0; id < id_to_token_.size(); ++id)
    if (!id_to_token_[id].empty()) token_to_id_[id_to_token_[id]] = static_cast<int32_t>(id);
}

namespace {

class BpeModel final : public HfModel {
 public:
  explicit BpeModel(BpeModelSpec spec) : HfModel(std::move(spec.id_to_token)), spec_(std::move(spec)) {
    for (size_t rank = 0; rank < spec_.merges.size(); ++rank) {
      const BpeMerge& m = spec_.merges[rank];
      merges_[pair_key(m.left, m.right)] = {static_cast<int32_t>(rank), m.merged};  // a repeated pair: last wins
    }
    for (int b = 0; b < 256; ++b) {
      static const char* const kHex = "0123456789ABCDEF";
      const std::string name = std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">";
      byte_ids_[b] = token_to_id(name).value_or(-1);
    }
  }

  const char* type() const override { return "BPE"; }

  void tokenize(const std::string& piece, std::vector<int64_t>& ids) const override {
    constexpr size_t kMaxCachedLength = 256;
    constexpr size_t kMaxCacheEntries = 1 << 16;
    if (piece.empty()) return;
    if (spec_.ignore_merges)
      if (auto id = token_to_id(piece)) {
        ids.push_back(*id);
        return;
      }
    if (piece.size() <= kMaxCachedLength) {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      if (auto it = cache_.find(piece); it != cache_.end()) {
        ids.insert(ids.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    std::vector<int32_t> result = merge_word(piece);
    ids.insert(ids.end(), result.begin(), result.end());
    if (piece.size() <= kMaxCachedLength) {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      if (cache_.size() >= kMaxCacheEntries) cache_.clear();
      cache_.emplace(piece, std::move(result));
    }
  }

 private:
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }

  std::vector<int32_t> merge_word(const std::string& piece) const {
    const std::vector<unicode::Unit> units = unicode::decode_utf8(piece);
    std::vector<MergeSymbol> symbols;
    symbols.reserve(units.size());
    std::optional<MergeSymbol> unk;  // a pending (possibly fused) unknown symbol
    auto add = [&](int32_t id, uint32_t b, uint32_t e) {
      if (unk) {
        symbols.push_back(*unk);
        unk.reset();
      }
      symbols.push_back({id, b, e});
    };
    for (size_t i = 0; i < units.size(); ++i) {
      const unicode::Unit& u = units[i];
      std::string s = piece.substr(u.begin, u.length);
      if (i > 0) s = spec_.continuing_subword_prefix + s;
      if (i + 1 == units.size()) s += spec_.end_of_word_suffix;
      if (auto id = token_to_id(s)) {
        add(*id, u.begin, u.begin + u.length);
        continue;
      }
      if (spec_.byte_fallback) {
        bool all = true;
        for (unsigned char c : s) all = all && byte_ids_[c] >= 0;
        if (all) {
          for (unsigned char c : s) add(byte_ids_[c], u.begin, u.begin + u.length);
          continue;
        }
      }
      if (!spec_.unk_id) continue;  // no unk token: the character is dropped
      if (unk && spec_.fuse_unk) {
        unk->end = u.begin + u.length;
      } else {
        if (unk) symbols.push_back(*unk);
        unk = MergeSymbol{*spec_.unk_id, u.begin, u.begin + u.length};
      }
    }
    if (unk) symbols.push_back(*unk);
    // Spans only tell stale heap entries apart: give each symbol its own increasing span.
    for (size_t i = 0; i < symbols.size(); ++i) {
      symbols[i].begin = static_cast<uint32_t>(i);
      symbols[i].end = static_cast<uint32_t>(i + 1);
    }
    auto lookup = [this](const MergeSymbol& a, const MergeSymbol& b) -> std::optional<std::pair<double, int32_t>> {
      auto it = merges_.find(pair_key(a.id, b.id));
      if (it == merges_.end()) return std::nullopt;
      return std::make_pair(static_cast<double>(it->second.first), it->second.second);
    };
    std::vector<int32_t> out;
    for (const MergeSymbol& s : merge_symbols(std::move(symbols), lookup)) out.push_back(s.id);
    return out;
  }

  BpeModelSpec spec_;
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;  // (left, right) -> (rank, merged)
  int32_t byte_ids_[256];
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace

HfModelPtr make_bpe_model(BpeModelSpec spec) { return std::make_shared<BpeModel>(std::move(spec)); }

}  // namespace memtx::data
