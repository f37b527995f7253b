// tokenizer/tokenizer_sp_normalizer.hpp: SentencePiece's normalizer: the precompiled character map (a
// darts-clone double-array trie over UTF-8 prefixes plus a blob of replacement strings, as stored in
// NormalizerSpec.precompiled_charsmap), invalid UTF-8 -> U+FFFD, user-defined symbols kept verbatim,
// extra-whitespace removal, whitespace escaping to "▁" and the dummy prefix.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/tokenizer_trie.hpp"

namespace memtx::data {

struct SpNormalizerSpec {
  std::string precompiled_charsmap;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

class SpNormalizer {
 public:
  // Error(Io) naming file for a malformed charsmap.
  SpNormalizer(const SpNormalizerSpec& spec, const std::vector<std::string>& user_defined, const std::string& file);
  std::string normalize(std::string_view text) const;
  const SpNormalizerSpec& spec() const { return spec_; }

 private:
  // The normalized form of the longest known prefix of input and the number of bytes it consumes.
  std::pair<std::string_view, size_t> normalize_prefix(std::string_view input) const;
  // Longest charsmap key starting input: (length, offset of its replacement in blob_), length 0 if none.
  std::pair<size_t, uint32_t> charsmap_match(std::string_view input) const;

  SpNormalizerSpec spec_;
  std::vector<uint32_t> units_;  // the double array
  std::string blob_;             // NUL-terminated replacement strings
  ByteTrie user_defined_;
};

}  // namespace memtx::data
