// fuzz/safetensors_fuzz.cpp: fuzzes the safetensors header reader (lib/io/safetensors_header.cpp), the part of
// io::read_safetensors that judges a file: the input is a whole file (8-byte length, JSON header, data). A
// header that is accepted must keep the reader's promises: entries within the limits, each one's byte range
// exactly its dtype x shape, the entries tiling the data area in order.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "fuzz_support.hpp"
#include "io/safetensors_header.hpp"

namespace {

const char* const kPath = "fuzz.safetensors";

void check_header(const memtx::io::SafetensorsHeader& h) {
  using memtx_fuzz::finding;
  if (h.entries.size() > memtx::io::kMaxSafetensorsTensors) finding("more entries than the limit accepted");
  uint64_t cursor = 0;
  for (const auto& e : h.entries) {
    if (!e.dtype || e.dtype->size == 0) finding("entry '" + e.name + "' without a dtype");
    if (e.shape.size() > 64) finding("entry '" + e.name + "' with more than 64 dimensions");
    unsigned __int128 bytes = e.dtype->size;
    for (int64_t d : e.shape) {
      if (d < 0) finding("entry '" + e.name + "' with a negative dimension");
      bytes *= static_cast<uint64_t>(d);
      if (bytes > std::numeric_limits<uint64_t>::max()) bytes = std::numeric_limits<uint64_t>::max();
    }
    if (e.begin != cursor) finding("entry '" + e.name + "' does not start where the previous one ended");
    if (e.end < e.begin || e.end - e.begin != bytes) finding("entry '" + e.name + "' has the wrong byte count");
    cursor = e.end;
  }
  if (cursor != h.data_size) finding("the entries do not cover the data area");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    if (size < 8) {  // the reader's own first check
      unsigned char none[8] = {};
      memtx::io::safetensors_header_length(kPath, none, size);
      memtx_fuzz::finding("a file shorter than 8 bytes passed the length check");
    }
    unsigned char len_bytes[8];
    std::memcpy(len_bytes, data, 8);
    const uint64_t header_len = memtx::io::safetensors_header_length(kPath, len_bytes, size);
    if (header_len > size - 8) memtx_fuzz::finding("header length past the end of the file accepted");
    const std::string text(reinterpret_cast<const char*>(data) + 8, static_cast<size_t>(header_len));
    check_header(memtx::io::parse_safetensors_header(kPath, text, size - 8 - header_len));
  } catch (const memtx::Error& e) {
    memtx_fuzz::expect_error(e, {memtx::StatusCode::Io}, kPath);
  }
  return 0;
}
