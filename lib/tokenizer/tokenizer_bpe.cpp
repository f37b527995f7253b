// tokenizer/tokenizer_bpe.cpp: the byte-level BPE tokenizer over a BpeSpec: added tokens split out of the raw
// text, NFC, pre-tokenizer pieces, bytes mapped to their printable stand-ins (the GPT-2 byte-to-unicode
// table), merges by rank with a per-piece cache, and the byte-level decoder.
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "tokenizer/tokenizer_bpe.hpp"
#include "tokenizer/tokenizer_errors.hpp"
#include "tokenizer/tokenizer_merge.hpp"
#include "tokenizer/tokenizer_nfc.hpp"
#include "tokenizer/tokenizer_unicode.hpp"

namespace memtx::data {
namespace {

// GPT-2's byte-to-unicode table: printable Latin-1 bytes stand for themselves, the other 68 bytes take
// the code points 256, 257, ... in byte order.
struct ByteMap {
  char32_t byte_to_cp[256];
  int16_t cp_to_byte[324];
  ByteMap() {
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      byte_to_cp[b] = printable ? static_cast<char32_t>(b) : next++;
    }
    for (auto& v : cp_to_byte) v = -1;
    for (int b = 0; b < 256; ++b) cp_to_byte[byte_to_cp[b]] = static_cast<int16_t>(b);
  }
};
const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}

// The token text of a tokenizer_config.json entry: "<s>" or {"content": "<s>", ...}.
std::optional<std::string> config_token(const nlohmann::json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  return std::nullopt;
}

class BpeTokenizer final : public Tokenizer {
 public:
  BpeTokenizer(BpeSpec spec, const std::string& config_json, const std::string& config_file)
      : spec_(std::move(spec)) {
    const ByteMap& bm = byte_map();
    vocab_size_ = static_cast<int64_t>(spec_.id_to_token.size());
    for (const SpecialToken& t : spec_.added_tokens) vocab_size_ = std::max(vocab_size_, t.id + 1);
    for (size_t id = 0; id < spec_.id_to_token.size(); ++id)
      if (!spec_.id_to_token[id].empty()) token_to_id_.emplace(spec_.id_to_token[id], static_cast<int32_t>(id));
    for (int b = 0; b < 256; ++b) {
      std::string s;
      unicode::append_utf8(s, bm.byte_to_cp[b]);
      auto it = token_to_id_.find(s);
      byte_id_[b] = it != token_to_id_.end() ? it->second : spec_.unk_id.value_or(-1);
    }
    for (size_t rank = 0; rank < spec_.merges.size(); ++rank) {
      const BpeMerge& m = spec_.merges[rank];
      merges_[pair_key(m.left, m.right)] = {static_cast<int32_t>(rank), m.merged};  // a repeated pair: last wins
    }
    // Decoded bytes of every vocabulary token; added tokens decode to their content as written.
    decoded_.resize(static_cast<size_t>(vocab_size_));
    valid_.assign(static_cast<size_t>(vocab_size_), false);
    for (size_t id = 0; id < spec_.id_to_token.size(); ++id) {
      if (spec_.id_to_token[id].empty()) continue;
      valid_[id] = true;
      for (const unicode::Unit& u : unicode::decode_utf8(spec_.id_to_token[id])) {
        if (u.cp != unicode::kInvalid && u.cp < 324 && bm.cp_to_byte[u.cp] >= 0)
          decoded_[id] += static_cast<char>(bm.cp_to_byte[u.cp]);
        else
          decoded_[id] += spec_.id_to_token[id].substr(u.begin, u.length);
      }
    }
    for (auto it = spec_.added_tokens.rbegin(); it != spec_.added_tokens.rend(); ++it) {
      decoded_[static_cast<size_t>(it->id)] = it->text;
      valid_[static_cast<size_t>(it->id)] = true;
      added_ids_[it->text] = it->id;  // first definition wins (iterating backwards)
    }
    specials_ = SpecialSplitter(spec_.added_tokens);
    resolve_special_ids(config_json, config_file);
  }

  std::vector<int64_t> encode(const std::string& text) const override {
    std::vector<int64_t> ids;
    for (const TextSegment& seg : specials_.split(text)) {
      if (seg.id >= 0) {
        ids.push_back(seg.id);
        continue;
      }
      std::string plain = text.substr(seg.begin, seg.end - seg.begin);
      if (spec_.nfc) plain = nfc(plain);
      std::vector<std::string> pieces{std::move(plain)};
      for (const BpePreTokenizeStep& step : spec_.pre_tokenize) {
        std::vector<std::string> next;
        for (std::string& p : pieces) {
          if (step.add_prefix_space && (p.empty() || p[0] != ' ')) p.insert(p.begin(), ' ');
          if (!step.pattern) {
            next.push_back(std::move(p));
            continue;
          }
          for (const auto& [b, e] : split_text(p, *step.pattern)) next.push_back(p.substr(b, e - b));
        }
        pieces = std::move(next);
      }
      for (const std::string& p : pieces) encode_piece(p, ids);
    }
    return ids;
  }

  std::string decode(const std::vector<int64_t>& ids) const override {
    std::string out;
    for (int64_t id : ids) {
      if (id < 0 || id >= vocab_size_ || !valid_[static_cast<size_t>(id)]) throw_invalid_id("bpe", id, vocab_size_);
      out += decoded_[static_cast<size_t>(id)];
    }
    return out;
  }

  int64_t vocab_size() const override { return vocab_size_; }
  std::optional<int64_t> token_id(const std::string& special) const override {
    if (auto it = added_ids_.find(special); it != added_ids_.end()) return it->second;
    if (auto it = token_to_id_.find(special); it != token_to_id_.end()) return it->second;
    return std::nullopt;
  }
  std::optional<int64_t> eos_id() const override { return eos_; }
  std::optional<int64_t> bos_id() const override { return bos_; }
  std::optional<int64_t> pad_id() const override { return pad_; }
  std::string kind() const override { return "bpe"; }

 private:
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }

  // bos/eos/pad from tokenizer_config.json when given, else from well-known token names (and the
  // TemplateProcessing post-processor for bos); pad falls back to eos.
  void resolve_special_ids(const std::string& config_json, const std::string& config_file) {
    nlohmann::json config = nlohmann::json::object();
    if (!config_json.empty()) {
      try {
        config = nlohmann::json::parse(config_json);
      } catch (const nlohmann::json::exception& e) {
        throw_io(config_file, std::string("malformed JSON: ") + e.what());
      }
      if (!config.is_object()) throw_io(config_file, "not a JSON object");
    }
    auto pick = [&](const char* key, std::initializer_list<const char*> names,
                    std::optional<std::string> extra) -> std::optional<int64_t> {
      if (auto t = config_token(config, key)) return token_id(*t);
      if (extra)
        if (auto id = token_id(*extra)) return id;
      for (const char* n : names)
        if (auto id = token_id(n)) return id;
      return std::nullopt;
    };
    eos_ = pick("eos_token", {"<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>"}, std::nullopt);
    bos_ = pick("bos_token", {"<|begin_of_text|>", "<s>", "<bos>"}, spec_.template_bos);
    pad_ = pick("pad_token", {}, std::nullopt);
    if (!pad_ && !config_token(config, "pad_token")) pad_ = eos_;
  }

  void encode_piece(const std::string& piece, std::vector<int64_t>& ids) const {
    constexpr size_t kMaxCachedLength = 256;
    constexpr size_t kMaxCacheEntries = 1 << 16;
    if (piece.empty()) return;
    if (piece.size() <= kMaxCachedLength) {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      if (auto it = cache_.find(piece); it != cache_.end()) {
        ids.insert(ids.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    std::vector<int32_t> result = bpe(piece);
    ids.insert(ids.end(), result.begin(), result.end());
    if (piece.size() <= kMaxCachedLength) {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      if (cache_.size() >= kMaxCacheEntries) cache_.clear();
      cache_.emplace(piece, std::move(result));
    }
  }

  std::vector<int32_t> bpe(const std::string& piece) const {
    const ByteMap& bm = byte_map();
    if (spec_.ignore_merges) {
      std::string mapped;
      for (unsigned char b : piece) unicode::append_utf8(mapped, bm.byte_to_cp[b]);
      if (auto it = token_to_id_.find(mapped); it != token_to_id_.end()) return {it->second};
    }
    std::vector<MergeSymbol> symbols;
    symbols.reserve(piece.size());
    for (size_t i = 0; i < piece.size(); ++i)
      symbols.push_back({byte_id_[static_cast<unsigned char>(piece[i])], static_cast<uint32_t>(i),
                         static_cast<uint32_t>(i + 1)});
    auto lookup = [this](const MergeSymbol& a, const MergeSymbol& b) -> std::optional<std::pair<double, int32_t>> {
      if (a.id < 0 || b.id < 0) return std::nullopt;
      auto it = merges_.find(pair_key(a.id, b.id));
      if (it == merges_.end()) return std::nullopt;
      return std::make_pair(static_cast<double>(it->second.first), it->second.second);
    };
    std::vector<int32_t> out;
    for (const MergeSymbol& s : merge_symbols(std::move(symbols), lookup))
      if (s.id >= 0) out.push_back(s.id);  // a byte missing from the vocabulary (and no unk) is dropped
    return out;
  }

  BpeSpec spec_;
  int64_t vocab_size_ = 0;
  std::unordered_map<std::string, int32_t> token_to_id_;
  std::unordered_map<std::string, int64_t> added_ids_;
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;  // (left, right) -> (rank, merged)
  int32_t byte_id_[256];
  std::vector<std::string> decoded_;
  std::vector<bool> valid_;
  SpecialSplitter specials_;
  std::optional<int64_t> eos_, bos_, pad_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeSpec spec, const std::string& config_json,
                                              const std::string& config_file) {
  return std::make_unique<BpeTokenizer>(std::move(spec), config_json, config_file);
}

}  // namespace memtx::data
