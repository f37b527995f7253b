// model/hf_export_tokenizer.hpp: the tokenizer files of an exported Hugging Face folder (hf_export.cpp).
//   "byte" (memtx's built-in tokenizer: id b = byte b, 256..258 = <|endoftext|>, <|im_start|>, <|im_end|>)
//     -> an equivalent tokenizer.json: byte-level BPE without merges (each byte is its own token, spelt with the
//        GPT-2 byte-to-character table), the ByteLevel pre-tokenizer without its split regex, the ByteLevel
//        decoder, the three specials as added tokens; plus tokenizer_config.json.
//   a tokenizer.json (file, or a folder holding one) -> copied, with the folder's tokenizer_config.json,
//     special_tokens_map.json and chat_template.jinja when present (a tokenizer_config.json is written otherwise).
//   a SentencePiece .model (file or folder) -> copied as tokenizer.model, with a tokenizer_config.json.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "memtx/export.h"
#include "tokenizer/tokenizer.hpp"

namespace memtx {

struct ExportedSpecialTokens {
  std::optional<int64_t> bos, eos, pad;
};

// The built-in byte tokenizer as tokenizer.json text (deterministic: the same bytes every time).
MEMTX_API std::string byte_tokenizer_json();

// Writes the tokenizer files of `spec` (a model's model.tokenizer, or the folder it was loaded from) into dir;
// returns the names of the files written and fills `specials` from the tokenizer. max_length: the model's
// max_seq_len (tokenizer_config.json's model_max_length when one is written). Error(NotFound/Io) naming the file.
MEMTX_API std::vector<std::string> export_tokenizer_files(const std::string& spec, const data::Tokenizer& tokenizer,
                                                const std::filesystem::path& dir, int64_t max_length,
                                                ExportedSpecialTokens* specials);

}  // namespace memtx
