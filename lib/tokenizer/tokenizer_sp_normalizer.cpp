// tokenizer/tokenizer_sp_normalizer.cpp: the SentencePiece normalizer. Charsmap layout: uint32 (little endian)
// size of the trie in bytes, the trie's 32-bit units, then the replacement blob. A unit holds has_leaf
// (bit 8), a label (low byte, with bit 31 set on value units), a value (low 31 bits) and an offset
// ((unit >> 10) << ((unit & 1 << 9) >> 6)).
#include "tokenizer/tokenizer_sp_normalizer.hpp"

#include "tokenizer/tokenizer_errors.hpp"
#include "tokenizer/tokenizer_unicode.hpp"

namespace memtx::data {
namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";      // U+2581 "▁"

uint32_t read_u32(std::string_view s, size_t pos) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(s[pos + i])) << (8 * i);
  return v;
}

bool unit_has_leaf(uint32_t unit) { return ((unit >> 8) & 1) != 0; }
uint32_t unit_value(uint32_t unit) { return unit & ((1u << 31) - 1); }
uint32_t unit_label(uint32_t unit) { return unit & ((1u << 31) | 0xFFu); }
size_t unit_offset(uint32_t unit) { return static_cast<size_t>((unit >> 10) << ((unit & (1u << 9)) >> 6)); }

}  // namespace

SpNormalizer::SpNormalizer(const SpNormalizerSpec& spec, const std::vector<std::string>& user_defined,
                           const std::string& file)
    : spec_(spec) {
  const std::string& map = spec_.precompiled_charsmap;
  if (!map.empty()) {
    if (map.size() < 4) throw_io(file, "precompiled_charsmap shorter than its header");
    const uint32_t trie_size = read_u32(map, 0);
    if (trie_size % 4 != 0 || trie_size > map.size() - 4)
      throw_io(file, "precompiled_charsmap trie size " + std::to_string(trie_size) + " does not fit");
    units_.resize(trie_size / 4);
    for (size_t i = 0; i < units_.size(); ++i) units_[i] = read_u32(map, 4 + 4 * i);
    blob_ = map.substr(4 + trie_size);
  }
  for (size_t i = 0; i < user_defined.size(); ++i) user_defined_.insert(user_defined[i], static_cast<int32_t>(i));
}

std::pair<size_t, uint32_t> SpNormalizer::charsmap_match(std::string_view input) const {
  std::pair<size_t, uint32_t> best{0, 0};
  if (units_.empty()) return best;
  size_t node = unit_offset(units_[0]);
  for (size_t i = 0; i < input.size(); ++i) {
    const auto c = static_cast<unsigned char>(input[i]);
    node ^= c;
    if (node >= units_.size()) break;
    const uint32_t unit = units_[node];
    if (unit_label(unit) != c) break;
    node ^= unit_offset(unit);
    if (node >= units_.size()) break;
    if (unit_has_leaf(unit)) best = {i + 1, unit_value(units_[node])};
  }
  return best;
}

std::pair<std::string_view, size_t> SpNormalizer::normalize_prefix(std::string_view input) const {
  if (input.empty()) return {{}, 0};
  size_t user = 0;
  user_defined_.prefixes(input, 0, [&](size_t length, int32_t) { user = length; });
  if (user > 0) return {input.substr(0, user), user};
  const auto [length, offset] = charsmap_match(input);
  if (length > 0 && offset < blob_.size()) {
    const size_t end = blob_.find('\0', offset);
    const size_t n = (end == std::string::npos ? blob_.size() : end) - offset;
    return {std::string_view(blob_).substr(offset, n), length};
  }
  const size_t n = unicode::utf8_sequence_length(input, 0);
  if (n == 0) return {kReplacementChar, 1};
  return {input.substr(0, n), n};
}

std::string SpNormalizer::normalize(std::string_view input) const {
  std::string out;
  out.reserve(input.size() + 8);
  if (spec_.remove_extra_whitespaces) {
    while (!input.empty()) {
      const auto [piece, consumed] = normalize_prefix(input);
      if (piece != " ") break;
      input.remove_prefix(consumed);
    }
  }
  if (input.empty()) return out;
  const std::string_view space = spec_.escape_whitespaces ? kSpaceSymbol : std::string_view(" ");
  if (spec_.add_dummy_prefix) out += space;
  bool prev_space = spec_.remove_extra_whitespaces;
  while (!input.empty()) {
    auto [piece, consumed] = normalize_prefix(input);
    input.remove_prefix(consumed);
    if (prev_space)
      while (!piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
    if (piece.empty()) continue;
    for (char c : piece) {
      if (c == ' ') out += space;
      else out += c;
    }
    if (spec_.remove_extra_whitespaces) prev_space = piece.back() == ' ';
  }
  if (spec_.remove_extra_whitespaces)
    while (out.size() >= space.size() && std::string_view(out).substr(out.size() - space.size()) == space)
      out.resize(out.size() - space.size());
  return out;
}

}  // namespace memtx::data
