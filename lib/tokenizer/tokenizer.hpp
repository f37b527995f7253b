// tokenizer/tokenizer.hpp: text <-> token ids. Three implementations: the built-in byte-level tokenizer (the
// embedded default: no files needed; tokenizer_byte.hpp), Hugging Face tokenizer.json (BPE, WordPiece or
// Unigram with its normalizer, pre-tokenizer and decoder; tokenizer_bpe.hpp), and SentencePiece .model files
// (unigram, BPE, word, char; read without libsentencepiece, whose protobuf clashes with LibTorch's;
// tokenizer_sentencepiece.hpp). No LibTorch here. encode() never adds BOS/EOS by itself: callers prepend
// bos_id() where a model wants it.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "memtx/export.h"

namespace memtx::data {

class MEMTX_API Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Special tokens written in the text (e.g. "<|im_start|>") become their ids. Thread-safe.
  virtual std::vector<int64_t> encode(const std::string& text) const = 0;
  // Invalid ids raise Error(InvalidArgument) naming the id. Special tokens decode to their text.
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual std::optional<int64_t> token_id(const std::string& special) const = 0;  // id of a special token
  virtual std::optional<int64_t> eos_id() const = 0;
  virtual std::optional<int64_t> bos_id() const = 0;
  virtual std::optional<int64_t> pad_id() const = 0;  // eos where the tokenizer names no pad token
  virtual std::string kind() const = 0;  // "byte", "bpe" (any tokenizer.json), "sentencepiece"
};

// spec: "byte" (built in), a tokenizer.json file, a SentencePiece .model file, or a folder holding
// tokenizer.json or tokenizer.model (a tokenizer_config.json beside a tokenizer.json supplies bos/eos/pad).
// Error(NotFound) for a missing file, Error(Io) for a malformed one, Error(Config) for an unsupported
// tokenizer type or feature; each message names the file.
MEMTX_API std::unique_ptr<Tokenizer> load_tokenizer(const std::string& spec);

}  // namespace memtx::data
