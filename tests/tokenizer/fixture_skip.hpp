// tests/tokenizer/fixture_skip.hpp: SKIP_WITHOUT_TOKENIZER_FIXTURE(), so that the tests reading the tokenizer fixture
// skip (rather than fail) in a checkout without ../shared/fixtures beside it.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>

#define SKIP_WITHOUT_TOKENIZER_FIXTURE()                                                                    \
  if (!std::filesystem::exists(std::filesystem::path(MEMTX_FIXTURES_DIR) / "tokenizer-bpe" / "tokenizer.json")) \
  GTEST_SKIP() << "fixtures not found at " << MEMTX_FIXTURES_DIR
