// tests/config/test_text.cpp: memtx::edit_distance (memtx/text.hpp), the distance behind the
// configuration's and the CLI's "did you mean" suggestions: unit costs, adjacent swaps, case sensitivity.
#include <gtest/gtest.h>

#include <string>

#include "memtx/text.hpp"

using memtx::edit_distance;

TEST(EditDistance, UnitCosts) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("hidden_dim", "hidden_dim"), 0u);
  EXPECT_EQ(edit_distance("hiden_dim", "hidden_dim"), 1u);   // insertion
  EXPECT_EQ(edit_distance("hidden_dimm", "hidden_dim"), 1u);  // deletion
  EXPECT_EQ(edit_distance("hidden_dum", "hidden_dim"), 1u);   // substitution
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(EditDistance, AdjacentSwapCostsOne) {
  EXPECT_EQ(edit_distance("hidedn_dim", "hidden_dim"), 1u);
  EXPECT_EQ(edit_distance("ab", "ba"), 1u);
  // Optimal string alignment: a swapped pair is not edited again (true Damerau-Levenshtein would give 2).
  EXPECT_EQ(edit_distance("ca", "abc"), 3u);
}

TEST(EditDistance, CaseSensitiveAndSymmetric) {
  EXPECT_EQ(edit_distance("Model", "model"), 1u);
  EXPECT_EQ(edit_distance("n_kv_group", "kv_group"), edit_distance("kv_group", "n_kv_group"));
  const std::string a = "attention_list", b = "atention_lst";
  EXPECT_EQ(edit_distance(a, b), 2u);
}
