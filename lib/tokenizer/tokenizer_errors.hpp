// tokenizer/tokenizer_errors.hpp: the errors the tokenizers raise, with uniform messages naming the file (or
// the tokenizer) at fault.
#pragma once
#include <cstdint>
#include <string>

namespace memtx::data {

[[noreturn]] void throw_invalid_id(const std::string& tokenizer, int64_t id, int64_t vocab_size);
[[noreturn]] void throw_io(const std::string& file, const std::string& what);           // Error(Io)
[[noreturn]] void throw_unsupported(const std::string& file, const std::string& what);  // Error(Config)

}  // namespace memtx::data
