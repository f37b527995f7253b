// tests/data/dataset_chat_test.cpp: ChatML rendering and the assistant-only loss mask at exact positions.
#include <algorithm>

#include "data/chat_template.hpp"
#include "dataset_support.hpp"

using namespace memtx::data;
using dataset_test::bytes;
using dataset_test::TestTokenizer;

namespace {

const std::vector<ChatMessage> kChat = {{"system", "Be brief."}, {"user", "hi"}, {"assistant", "yo"},
                                        {"user", "ok?"}, {"assistant", "sure"}};

}  // namespace

TEST(DatasetChat, RendersChatML) {
  EXPECT_EQ(render_chatml({{"user", "hi"}, {"assistant", "yo"}}),
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nyo<|im_end|>\n");
  EXPECT_EQ(render_chatml({{"user", "hi"}}, true), "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(render_chatml({}), "");
}

TEST(DatasetChat, TokensAreTheRenderedText) {
  TestTokenizer tok;
  PieceEncoder enc(tok);
  const Document d = tokenize_chat(enc, kChat, true);
  EXPECT_EQ(d.tokens, tok.encode(render_chatml(kChat)));
  ASSERT_EQ(d.mask.size(), d.tokens.size());
}

TEST(DatasetChat, AssistantOnlyMaskExactPositions) {
  TestTokenizer tok;
  PieceEncoder enc(tok);
  const Document d = tokenize_chat(enc, {{"user", "hi"}, {"assistant", "yo"}}, true);
  // <s>user\n h i </e> \n <s>assistant\n y o </e> \n
  std::vector<int64_t> want = {TestTokenizer::kImStart};
  for (auto b : bytes("user\nhi")) want.push_back(b);
  want.push_back(TestTokenizer::kImEnd);
  want.push_back('\n');
  want.push_back(TestTokenizer::kImStart);
  for (auto b : bytes("assistant\nyo")) want.push_back(b);
  want.push_back(TestTokenizer::kImEnd);
  want.push_back('\n');
  ASSERT_EQ(d.tokens, want);
  // Counted: 'y' (index 21), 'o' (22) and the assistant's <|im_end|> (23); nothing else.
  std::vector<uint8_t> mask(want.size(), 0);
  mask[21] = mask[22] = mask[23] = 1;
  EXPECT_EQ(d.tokens[21], 'y');
  EXPECT_EQ(d.tokens[23], TestTokenizer::kImEnd);
  EXPECT_EQ(d.mask, mask);
}

TEST(DatasetChat, AssistantOnlyMaskOverSeveralTurns) {
  TestTokenizer tok;
  PieceEncoder enc(tok);
  const Document d = tokenize_chat(enc, kChat, true);
  // The counted tokens, in order, spell each assistant content followed by its end marker.
  std::vector<int64_t> counted;
  for (size_t i = 0; i < d.tokens.size(); ++i)
    if (d.mask[i]) counted.push_back(d.tokens[i]);
  std::vector<int64_t> want = bytes("yo");
  want.push_back(TestTokenizer::kImEnd);
  for (auto b : bytes("sure")) want.push_back(b);
  want.push_back(TestTokenizer::kImEnd);
  EXPECT_EQ(counted, want);
  EXPECT_EQ(d.mask.back(), 0);  // the final newline is not counted
}

TEST(DatasetChat, PretrainingCountsEveryToken) {
  TestTokenizer tok;
  PieceEncoder enc(tok);
  const Document d = tokenize_chat(enc, kChat, false);
  EXPECT_EQ(d.mask, std::vector<uint8_t>(d.tokens.size(), 1));
}

TEST(DatasetChat, TokenizerPrefixAppearsOnceAtTheStart) {
  TestTokenizer tok(/*add_bos=*/true);
  PieceEncoder enc(tok);
  EXPECT_EQ(enc.prefix(), std::vector<int64_t>{TestTokenizer::kBos});
  const Document d = tokenize_chat(enc, kChat, true);
  EXPECT_EQ(d.tokens, tok.encode(render_chatml(kChat)));
  EXPECT_EQ(std::count(d.tokens.begin(), d.tokens.end(), TestTokenizer::kBos), 1);
  EXPECT_EQ(d.mask[0], 0);
}
