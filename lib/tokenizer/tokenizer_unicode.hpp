// tokenizer/tokenizer_unicode.hpp: the Unicode facts the tokenizers need: lenient UTF-8 decoding (invalid
// bytes survive as single-byte units, so byte-exact round trips stay possible), UTF-8 encoding, and the
// general categories the pre-tokenizer patterns use (\p{L}, \p{N}, \s) plus canonical combining classes,
// canonical and compatibility decompositions (NFC, NFD, NFKC, NFKD) and lowercase mappings. The tables
// (tokenizer_unicode_tables.cpp) follow Unicode 14.0.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace memtx::data::unicode {

// One decoded unit of a byte string: a code point and where its bytes lie. An invalid or truncated
// sequence yields one unit per byte with cp = kInvalid.
struct Unit {
  char32_t cp;
  uint32_t begin;
  uint32_t length;
};
constexpr char32_t kInvalid = 0xFFFFFFFFu;

std::vector<Unit> decode_utf8(std::string_view text);
// Length of the valid UTF-8 sequence starting at text[pos], 0 when it is invalid or truncated.
size_t utf8_sequence_length(std::string_view text, size_t pos);
void append_utf8(std::string& out, char32_t cp);
bool is_ascii(const std::string& text);

bool is_letter(char32_t cp);      // \p{L}: Lu Ll Lt Lm Lo
bool is_number(char32_t cp);      // \p{N}: Nd Nl No
bool is_whitespace(char32_t cp);  // \s: the White_Space property
int combining_class(char32_t cp); // canonical combining class, 0 for starters

// One canonical decomposition of the UCD (one level; apply again for the full decomposition).
// second == 0 for singletons; composes == true when the pair recomposes under NFC (a primary composite).
struct Decomposition {
  char32_t cp;
  char32_t first;
  char32_t second;
  bool composes;
};
const Decomposition* find_decomposition(char32_t cp);
// The primary composite of (first, second), 0 when there is none (Hangul excluded: see tokenizer_nfc).
char32_t find_composition(char32_t first, char32_t second);
// The full compatibility decomposition (NFKD) of cp when its own decomposition is a compatibility one,
// empty otherwise (then use find_decomposition).
std::u32string_view compatibility_decomposition(char32_t cp);
// The full lowercase of cp (one to three code points), empty when cp is its own lowercase.
std::u32string_view lowercase_mapping(char32_t cp);

}  // namespace memtx::data::unicode
