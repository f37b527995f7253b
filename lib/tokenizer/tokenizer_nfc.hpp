// tokenizer/tokenizer_nfc.hpp: Unicode NFC normalization (the "NFC" normalizer of Hugging Face tokenizer.json,
// used by Qwen2). Invalid UTF-8 bytes pass through unchanged and block composition across them.
#pragma once
#include <string>

namespace memtx::data {

std::string nfc(const std::string& text);

}  // namespace memtx::data
