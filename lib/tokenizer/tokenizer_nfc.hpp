// tokenizer/tokenizer_nfc.hpp: Unicode normalization forms NFC, NFD, NFKC and NFKD (the normalizers of the same
// names in Hugging Face tokenizer.json; Qwen2 uses NFC). Invalid UTF-8 bytes pass through unchanged and block
// composition and reordering across them.
#pragma once
#include <string>

namespace memtx::data {

enum class NormalForm { NFC, NFD, NFKC, NFKD };

std::string normalize_form(const std::string& text, NormalForm form);
inline std::string nfc(const std::string& text) { return normalize_form(text, NormalForm::NFC); }

}  // namespace memtx::data
