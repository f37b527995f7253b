// tokenizer/tokenizer_bpe.cpp: the tokenizer.json tokenizer over a BpeSpec: added tokens split out of the raw
// text, then per plain segment the normalizer, the pre-tokenizer and the model; decoding maps ids to their
// token strings (added tokens to their content) and runs the decoder.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "tokenizer/tokenizer_bpe.hpp"
#include "tokenizer/tokenizer_errors.hpp"

namespace memtx::data {
namespace {

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
    const std::vector<std::string>& vocab = spec_.model->id_to_token();
    vocab_size_ = static_cast<int64_t>(vocab.size());
    for (const SpecialToken& t : spec_.added_tokens) vocab_size_ = std::max(vocab_size_, t.id + 1);
    tokens_.assign(vocab.begin(), vocab.end());
    tokens_.resize(static_cast<size_t>(vocab_size_));
    valid_.assign(static_cast<size_t>(vocab_size_), false);
    for (size_t id = 0; id < vocab.size(); ++id) valid_[id] = !vocab[id].empty();
    for (auto it = spec_.added_tokens.rbegin(); it != spec_.added_tokens.rend(); ++it) {
      tokens_[static_cast<size_t>(it->id)] = it->text;
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
      if (spec_.normalizer) plain = spec_.normalizer->normalize(plain);
      std::vector<Piece> pieces{{std::move(plain), seg.begin == 0}};
      if (spec_.pre_tokenizer) spec_.pre_tokenizer->pre_tokenize(pieces);
      for (const Piece& p : pieces) spec_.model->tokenize(p.text, ids);
    }
    return ids;
  }

  std::string decode(const std::vector<int64_t>& ids) const override {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int64_t id : ids) {
      if (id < 0 || id >= vocab_size_ || !valid_[static_cast<size_t>(id)]) throw_invalid_id("bpe", id, vocab_size_);
      tokens.push_back(tokens_[static_cast<size_t>(id)]);
    }
    return decode_tokens(spec_.decoder.get(), std::move(tokens));
  }

  int64_t vocab_size() const override { return vocab_size_; }
  std::optional<int64_t> token_id(const std::string& special) const override {
    if (auto it = added_ids_.find(special); it != added_ids_.end()) return it->second;
    if (auto id = spec_.model->token_to_id(special)) return *id;
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

  BpeSpec spec_;
  int64_t vocab_size_ = 0;
  std::unordered_map<std::string, int64_t> added_ids_;
  std::vector<std::string> tokens_;  // token string by id (added tokens: their content)
  std::vector<bool> valid_;
  SpecialSplitter specials_;
  std::optional<int64_t> eos_, bos_, pad_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeSpec spec, const std::string& config_json,
                                              const std::string& config_file) {
  return std::make_unique<BpeTokenizer>(std::move(spec), config_json, config_file);
}

}  // namespace memtx::data
