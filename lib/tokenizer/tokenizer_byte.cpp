// tokenizer/tokenizer_byte.cpp: the byte tokenizer. Special-token strings in the text become their ids; every
// other byte is its own id, so any byte string (invalid UTF-8 included) round-trips exactly.
#include "tokenizer/tokenizer_byte.hpp"

#include "tokenizer/tokenizer_errors.hpp"
#include "tokenizer/tokenizer_specials.hpp"

namespace memtx::data {
namespace {

constexpr int64_t kEndOfText = 256;
const char* const kSpecials[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
constexpr int64_t kVocabSize = 259;

class ByteTokenizer final : public Tokenizer {
 public:
  ByteTokenizer() {
    std::vector<SpecialToken> tokens;
    for (int64_t i = 0; i < 3; ++i) tokens.push_back({kSpecials[i], 256 + i});
    specials_ = SpecialSplitter(std::move(tokens));
  }

  std::vector<int64_t> encode(const std::string& text) const override {
    std::vector<int64_t> ids;
    ids.reserve(text.size());
    for (const TextSegment& seg : specials_.split(text)) {
      if (seg.id >= 0) {
        ids.push_back(seg.id);
        continue;
      }
      for (size_t i = seg.begin; i < seg.end; ++i) ids.push_back(static_cast<unsigned char>(text[i]));
    }
    return ids;
  }

  std::string decode(const std::vector<int64_t>& ids) const override {
    std::string out;
    out.reserve(ids.size());
    for (int64_t id : ids) {
      if (id < 0 || id >= kVocabSize) throw_invalid_id("byte", id, kVocabSize);
      if (id < 256) out += static_cast<char>(id);
      else out += kSpecials[id - 256];
    }
    return out;
  }

  int64_t vocab_size() const override { return kVocabSize; }
  std::optional<int64_t> token_id(const std::string& special) const override {
    for (int64_t i = 0; i < 3; ++i)
      if (special == kSpecials[i]) return 256 + i;
    return std::nullopt;
  }
  std::optional<int64_t> eos_id() const override { return kEndOfText; }
  std::optional<int64_t> bos_id() const override { return kEndOfText; }
  std::optional<int64_t> pad_id() const override { return kEndOfText; }
  std::string kind() const override { return "byte"; }

 private:
  SpecialSplitter specials_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_byte_tokenizer() { return std::make_unique<ByteTokenizer>(); }

}  // namespace memtx::data
