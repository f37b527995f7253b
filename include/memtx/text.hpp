// memtx/text.hpp: small text helpers shared by libmemtx and its front ends: the edit distance behind every
// "did you mean" suggestion (configuration keys and sections, the CLI's seed flags).
#pragma once
#include <cstddef>
#include <string_view>

#include "memtx/export.h"

namespace memtx {

// Optimal string alignment distance (restricted Damerau-Levenshtein): an insertion, deletion, substitution
// or swap of two adjacent characters costs 1; each substring is edited at most once. Byte-wise and case
// sensitive (callers lower-case first when they want case ignored); no cut-off, the full distance is returned.
MEMTX_API std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace memtx
