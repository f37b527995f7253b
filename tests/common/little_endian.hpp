// tests/common/little_endian.hpp: the 8 little-endian bytes of a uint64 (a safetensors file's header length).
#pragma once
#include <cstdint>
#include <string>

namespace memtx_test {

inline std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

}  // namespace memtx_test
