// tests/tokenizer/tokenizer_byte_test.cpp: the built-in byte tokenizer: ids are bytes, the three ChatML special
// tokens after them, exact round trips of any byte string, invalid ids.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "memtx/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace {

using Ids = std::vector<int64_t>;

TEST(TokenizerByte, VocabularyAndSpecialTokens) {
  auto tok = memtx::data::load_tokenizer("byte");
  EXPECT_EQ(tok->kind(), "byte");
  EXPECT_EQ(tok->vocab_size(), 259);
  EXPECT_EQ(tok->token_id("<|endoftext|>"), 256);
  EXPECT_EQ(tok->token_id("<|im_start|>"), 257);
  EXPECT_EQ(tok->token_id("<|im_end|>"), 258);
  EXPECT_FALSE(tok->token_id("<|nope|>"));
  EXPECT_EQ(tok->eos_id(), 256);
  EXPECT_EQ(tok->bos_id(), 256);
  EXPECT_EQ(tok->pad_id(), 256);
}

TEST(TokenizerByte, EncodesBytesAndSpecialTokens) {
  auto tok = memtx::data::load_tokenizer("byte");
  EXPECT_EQ(tok->encode("hi"), (Ids{'h', 'i'}));
  EXPECT_EQ(tok->encode("\xC3\xA9"), (Ids{0xC3, 0xA9}));
  EXPECT_EQ(tok->encode("<|im_start|>user\nhi<|im_end|><|endoftext|>"),
            (Ids{257, 'u', 's', 'e', 'r', '\n', 'h', 'i', 258, 256}));
  EXPECT_EQ(tok->encode("<|im_sta"), (Ids{'<', '|', 'i', 'm', '_', 's', 't', 'a'}));
  EXPECT_EQ(tok->encode(""), Ids{});
  EXPECT_EQ(tok->decode({257, 'o', 'k', 258}), "<|im_start|>ok<|im_end|>");
}

TEST(TokenizerByte, RoundTripsArbitraryBytes) {
  auto tok = memtx::data::load_tokenizer("byte");
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  EXPECT_EQ(tok->decode(tok->encode(all)), all);
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    std::string s;
    const int n = static_cast<int>(rng() % 64);
    for (int k = 0; k < n; ++k) s += static_cast<char>(rng() % 256);
    if (i % 3 == 0) s.insert(s.size() / 2, "<|im_end|>");
    EXPECT_EQ(tok->decode(tok->encode(s)), s);
  }
}

TEST(TokenizerByte, InvalidIds) {
  auto tok = memtx::data::load_tokenizer("byte");
  for (int64_t id : {int64_t{259}, int64_t{-1}, int64_t{1} << 40}) {
    try {
      tok->decode({65, id});
      ADD_FAILURE() << "no error for id " << id;
    } catch (const memtx::Error& e) {
      EXPECT_EQ(e.code(), memtx::StatusCode::InvalidArgument);
      EXPECT_NE(std::string(e.what()).find(std::to_string(id)), std::string::npos) << e.what();
    }
  }
}

}  // namespace
