// data/tokenizer.hpp: text <-> token ids. Three implementations: the built-in byte-level tokenizer (the
// embedded default: no files needed), Hugging Face tokenizer.json byte-level BPE (GPT-2 / Llama 3 / Qwen2
// format), and SentencePiece .model files (Debian's libsentencepiece). No LibTorch here.
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
  // Special tokens written in the text (e.g. "<|im_start|>") become their ids.
  virtual std::vector<int64_t> encode(const std::string& text) const = 0;
  // Invalid ids raise Error(InvalidArgument) naming the id.
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual std::optional<int64_t> token_id(const std::string& special) const = 0;  // id of a special token
  virtual std::optional<int64_t> eos_id() const = 0;
  virtual std::optional<int64_t> bos_id() const = 0;
  virtual std::optional<int64_t> pad_id() const = 0;
  virtual std::string kind() const = 0;  // "byte", "bpe", "sentencepiece"
};

// spec: "byte" (built in), a tokenizer.json file, a SentencePiece .model file, or a folder holding
// tokenizer.json or tokenizer.model. Error(NotFound) for a missing file, Error(Io) for a malformed one,
// Error(Config) for an unsupported tokenizer type; each message names the file.
MEMTX_API std::unique_ptr<Tokenizer> load_tokenizer(const std::string& spec);

}  // namespace memtx::data
