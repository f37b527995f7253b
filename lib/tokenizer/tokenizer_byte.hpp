// tokenizer/tokenizer_byte.hpp: the built-in byte tokenizer ("byte"), the embedded default that needs no file:
// ids 0..255 are the bytes, then <|endoftext|> = 256 (eos, and also bos and pad), <|im_start|> = 257 and
// <|im_end|> = 258 (so ChatML templates work); vocabulary size 259.
#pragma once
#include <memory>

#include "tokenizer/tokenizer.hpp"

namespace memtx::data {

std::unique_ptr<Tokenizer> make_byte_tokenizer();

}  // namespace memtx::data
