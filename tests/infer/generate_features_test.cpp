// Tests of the generation features around sampling: the repetition penalty over the prompt and the tokens made
// (plain generation and sessions), max_time, the per-token callback (order, stopping), and TextStream's
// incremental text (held-back UTF-8, pieces that concatenate to one decode).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "infer/generate.hpp"
#include "infer/session.hpp"
#include "infer/text_stream.hpp"
#include "model/test_support.hpp"
#include "tokenizer/tokenizer.hpp"

namespace memtx::test {
namespace {

using infer::GenerateOptions;
using infer::StopReason;

Transformer tiny_model() {
  return Transformer(tiny_config({"model.init_std=0.2"}), plugin_registry());
}

GenerateOptions greedy(int64_t n) {
  GenerateOptions o;
  o.max_new_tokens = n;
  o.sampling.temperature = 0;
  return o;
}

size_t distinct(const std::vector<int64_t>& ids) { return std::set<int64_t>(ids.begin(), ids.end()).size(); }

TEST(GenerateFeatures, RepetitionPenaltyChangesARepeatingGreedyContinuation) {
  Transformer model = tiny_model();
  const std::vector<int64_t> prompt = {5, 6, 7};
  const auto plain = infer::generate(*model, prompt, greedy(24)).tokens;
  ASSERT_EQ(plain.size(), 24u);
  ASSERT_LT(distinct(plain), plain.size()) << "the tiny model's greedy continuation should repeat itself";
  GenerateOptions penalized = greedy(24);
  penalized.sampling.repetition_penalty = 1e6;  // every seen id's logit loses its sign's advantage
  const auto changed = infer::generate(*model, prompt, penalized).tokens;
  ASSERT_EQ(changed.size(), 24u);
  EXPECT_NE(changed, plain);
  EXPECT_GT(distinct(changed), distinct(plain));
  // A huge penalty makes every id whose logit is positive unattractive once seen: no id of the prompt with a
  // positive logit repeats right away, and the first token differs from the plain one when the plain one was
  // a prompt id.
  if (std::find(prompt.begin(), prompt.end(), plain[0]) != prompt.end()) EXPECT_NE(changed[0], plain[0]);
  // A penalty of 1 is off.
  GenerateOptions off = greedy(24);
  off.sampling.repetition_penalty = 1.0;
  EXPECT_EQ(infer::generate(*model, prompt, off).tokens, plain);
}

TEST(GenerateFeatures, SessionPenaltyCountsFedTokensAndIsClearedByReset) {
  Transformer model = tiny_model();
  const std::vector<int64_t> prompt = {5, 6, 7};
  GenerateOptions o = greedy(12);
  o.sampling.repetition_penalty = 3.0;
  const auto plain = infer::generate(*model, prompt, o).tokens;
  infer::Session session(*model);
  session.feed({5, 6});
  session.feed({7});
  EXPECT_EQ(session.generate(o).tokens, plain);  // the same ids seen, fed in pieces
  session.reset();
  session.feed(prompt);
  EXPECT_EQ(session.generate(o).tokens, plain);  // reset forgot the first stream's ids
}

TEST(GenerateFeatures, MaxTimeStopsEarlyKeepingTheTokensMade) {
  Transformer model = tiny_model();
  GenerateOptions o = greedy(500);
  o.max_time = 1e-9;
  const auto result = infer::generate(*model, {1, 2, 3}, o);
  EXPECT_EQ(result.reason, StopReason::MaxTime);
  EXPECT_EQ(result.tokens.size(), 1u);  // checked after each token: the first one is always made
  EXPECT_STREQ(infer::stop_reason_name(result.reason), "max_time");
  const auto full = infer::generate(*model, {1, 2, 3}, greedy(5)).tokens;
  EXPECT_EQ(result.tokens[0], full[0]);
  infer::Session session(*model);
  session.feed({1, 2, 3});
  const auto streamed = session.generate(o);
  EXPECT_EQ(streamed.reason, StopReason::MaxTime);
  EXPECT_EQ(session.position(), 4);  // the kept token joined the stream
  // Bad values are refused naming the option.
  for (double bad : {-1.0, std::numeric_limits<double>::infinity(), std::nan("")}) {
    o.max_time = bad;
    try {
      infer::generate(*model, {1}, o);
      ADD_FAILURE() << "max_time " << bad << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
      EXPECT_NE(std::string(e.what()).find("max_time"), std::string::npos);
    }
  }
}

TEST(GenerateFeatures, OnTokenSeesEveryKeptTokenInOrderAndCanStop) {
  Transformer model = tiny_model();
  GenerateOptions o;
  o.max_new_tokens = 20;
  o.seed = 4;
  const auto reference = infer::generate(*model, {9, 8}, o);
  std::vector<int64_t> seen;
  o.on_token = [&](int64_t t) {
    seen.push_back(t);
    return false;
  };
  const auto observed = infer::generate(*model, {9, 8}, o);
  EXPECT_EQ(observed.tokens, reference.tokens);
  EXPECT_EQ(seen, reference.tokens);
  // Returning true after the fifth token stops there: five tokens, reason Callback.
  seen.clear();
  o.on_token = [&](int64_t t) {
    seen.push_back(t);
    return seen.size() == 5;
  };
  const auto stopped = infer::generate(*model, {9, 8}, o);
  EXPECT_EQ(stopped.reason, StopReason::Callback);
  EXPECT_EQ(stopped.tokens, std::vector<int64_t>(reference.tokens.begin(), reference.tokens.begin() + 5));
  EXPECT_EQ(seen, stopped.tokens);
  // A stop token never reaches the callback.
  seen.clear();
  o.on_token = [&](int64_t t) {
    seen.push_back(t);
    return false;
  };
  o.stop_tokens = {reference.tokens[3]};
  const auto cut = infer::generate(*model, {9, 8}, o);
  EXPECT_EQ(seen, cut.tokens);
}

TEST(TextStream, HoldsBackUnfinishedUtf8AndConcatenatesToOneDecode) {
  const auto tokenizer = data::load_tokenizer("byte");  // one id per byte
  infer::TextStream stream(*tokenizer);
  const std::string text = "a\xC3\xA9" "b\xE2\x82\xAC\xF0\x9F\x98\x80";  // a, é, b, €, 😀
  std::string joined;
  std::vector<std::string> pieces;
  for (unsigned char c : text) {
    auto piece = stream.push(c);
    ASSERT_TRUE(piece.has_value());
    pieces.push_back(*piece);
    joined += *piece;
  }
  joined += stream.finish();
  EXPECT_EQ(joined, text);
  EXPECT_EQ(pieces[0], "a");
  EXPECT_EQ(pieces[1], "");  // the lead byte of é waits
  EXPECT_EQ(pieces[2], "\xC3\xA9");
  EXPECT_EQ(pieces[4], "");
  EXPECT_EQ(pieces[5], "");
  EXPECT_EQ(pieces[6], "\xE2\x82\xAC");
  EXPECT_EQ(pieces[10], "\xF0\x9F\x98\x80");
  // An unfinished character at the end comes out with finish().
  infer::TextStream tail(*tokenizer);
  EXPECT_EQ(*tail.push('x'), "x");
  EXPECT_EQ(*tail.push(0xE2), "");
  EXPECT_EQ(tail.finish(), "\xE2");
  EXPECT_EQ(tail.finish(), "");
  // An id the tokenizer cannot decode gives no piece and leaves the text alone.
  infer::TextStream bad(*tokenizer);
  EXPECT_FALSE(bad.push(100000).has_value());
  EXPECT_EQ(*bad.push('y'), "y");
  EXPECT_EQ(infer::TextStream::unfinished_utf8_tail("ab\xF0\x9F\x98"), 3u);
  EXPECT_EQ(infer::TextStream::unfinished_utf8_tail("ab\xF0\x9F\x98\x80"), 0u);
  EXPECT_EQ(infer::TextStream::unfinished_utf8_tail(""), 0u);
}

}  // namespace
}  // namespace memtx::test
