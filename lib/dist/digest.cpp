// dist/digest.cpp: FNV-1a 64 (offset basis 14695981039346656037, prime 1099511628211).
#include "dist/digest.hpp"

namespace memtx::dist {

uint64_t config_digest(std::string_view text) noexcept {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace memtx::dist
