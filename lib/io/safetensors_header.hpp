// io/safetensors_header.hpp: the strict parser of a safetensors header (the 8-byte little-endian length, then
// the JSON {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}), without LibTorch: it works on
// bytes already read, so io/safetensors.cpp (the file reader) and the fuzz target (fuzz/) share it.
// Files come from strangers: it bounds the header size, the number of tensors and of dimensions, checks every
// offset lies inside the data area, that sizes match dtype x shape (an element count that overflows 64 bits is
// refused), that tensors neither overlap nor leave gaps, and knows its dtypes. Linear in the header's length.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "memtx/error.hpp"

namespace memtx::io {

// Limits of the reader (README.md, "Limits on input sizes").
constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;  // the reference implementation's bound
constexpr size_t kMaxSafetensorsTensors = 262'144;            // entries of one file (2^18)

// A dtype of the format: its name ("F32", "BF16", "I8", ...) and bytes an element.
struct SafetensorsDtype {
  const char* name;
  uint64_t size;
};
// The dtype of that name, or null for one the reader does not know.
const SafetensorsDtype* safetensors_dtype(const std::string& name);

// One validated header entry.
struct SafetensorsEntry {
  std::string name;
  const SafetensorsDtype* dtype = nullptr;
  std::vector<int64_t> shape;  // each dimension >= 0; the product of the non-zero ones fits int64
  uint64_t begin = 0, end = 0;  // data_offsets: end - begin = elements x dtype size, end <= data size
};

// A validated header: the entries tile the data area exactly, in file order (by offset; zero-sized tensors at
// the same offset keep header order).
struct SafetensorsHeader {
  uint64_t header_len = 0;  // N: the JSON bytes after the 8-byte length
  uint64_t data_size = 0;   // bytes after the header
  std::vector<SafetensorsEntry> entries;
  std::map<std::string, std::string> metadata;
};

// The header length N that the file's first 8 bytes give, checked against kMaxSafetensorsHeaderBytes and the
// file's size. Error(Io) naming path when it is out of bounds.
uint64_t safetensors_header_length(const std::string& path, const unsigned char (&len_bytes)[8], uint64_t file_size);

// Parses and validates the header's JSON text (the N bytes after the length); data_size is the number of bytes
// after it. Error(Io) naming path and what is wrong (e.g. "tensor 'w': data_offsets [0, 12) but F32 [2, 2]
// needs 16 bytes").
SafetensorsHeader parse_safetensors_header(const std::string& path, const std::string& text, uint64_t data_size);

}  // namespace memtx::io
