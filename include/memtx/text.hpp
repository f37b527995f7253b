// memtx/text.hpp: small text helpers shared by libmemtx and its front ends: the edit distance behind every
// "did you mean" suggestion (configuration keys and sections, the CLI's seed flags), the list joiner of every
// message that names several things, and the UTF-8 repair of text bound for YAML, JSON and status messages.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "memtx/export.h"

namespace memtx {

// Optimal string alignment distance (restricted Damerau-Levenshtein): an insertion, deletion, substitution
// or swap of two adjacent characters costs 1; each substring is edited at most once. Byte-wise and case
// sensitive (callers lower-case first when they want case ignored); no cut-off, the full distance is returned.
MEMTX_API std::size_t edit_distance(std::string_view a, std::string_view b);

// The items with the separator between them: join({"a", "b"}) is "a, b"; an empty list gives "".
MEMTX_API std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

// text with each byte that is not part of well-formed UTF-8 (overlong forms, surrogates and code points past
// U+10FFFF included) replaced by U+FFFD. A path or a config string may hold such bytes (POSIX paths are bytes);
// YAML and JSON text cannot, nor can the bindings' strings (JNI, Go), so the config dumps and status messages
// write this text instead.
MEMTX_API std::string valid_utf8(const std::string& text);

}  // namespace memtx
