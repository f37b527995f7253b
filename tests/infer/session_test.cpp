// Tests of streaming sessions (infer/session.hpp): a stream fed in pieces whose sizes do not divide the
// segment length gives the logits of one forward over the whole stream ([causal, infini] with segments of 8,
// pure infini, and [causal, ssm, linear] without segments); the state's bytes stay constant over a stream 50
// segments long (and do grow for a softmax layer without segments); generation from a session equals
// generation from scratch on the same prefix, and its tokens join the stream; reset equals a fresh session;
// the next-token loss equals the whole forward's cross entropy; errors leave the stream unchanged.
#include <algorithm>
#include <map>

#include "infer/generate.hpp"
#include "infer/session.hpp"
#include "memtx/error.hpp"
#include "model/test_support.hpp"

namespace memtx::test {
namespace {

using infer::FeedScore;
using infer::GenerateOptions;
using infer::Session;

struct SessionCase {
  const char* name;
  std::vector<std::string> variants;
  std::vector<std::string> overrides;
  int64_t segment;  // the model's segment length (0: none)
};

std::vector<SessionCase> session_cases() {
  return {
      {"causal_infini", {"causal", "infini"},
       {"attention.attention_list=[causal, infini]", "attention.n_kv_group=2", "infini_attention.segment_length=8",
        "infini_attention.balance_init_type=normal"},
       8},
      {"infini", {"infini"},
       {"attention.attention_variant=infini", "infini_attention.segment_length=8",
        "infini_attention.memory_update=delta", "infini_attention.balance_init_type=normal"},
       8},
      {"causal_ssm_linear", {"causal", "ssm", "linear"},
       {"model.num_layers=3", "attention.attention_list=[causal, ssm, linear]"},
       0},
  };
}

std::vector<int64_t> random_tokens(int64_t n, uint64_t seed, int64_t vocab = 97) {
  torch::manual_seed(seed);
  auto t = torch::randint(0, vocab, {n}, torch::kLong);
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
}

// The whole stream's logits [n, vocab] from one stateless forward in eval mode.
torch::Tensor whole_forward(Transformer& model, const std::vector<int64_t>& tokens) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  auto logits = model->forward(torch::tensor(tokens, torch::kLong).unsqueeze(0))[0];
  model->train(was_training);
  return logits;
}

// Feeds tokens in pieces of the given sizes (cycled); returns the concatenated logits.
torch::Tensor feed_in_pieces(Session& session, const std::vector<int64_t>& tokens, const std::vector<int64_t>& sizes,
                             FeedScore* score = nullptr) {
  std::vector<torch::Tensor> outs;
  size_t start = 0;
  for (size_t i = 0; start < tokens.size(); ++i) {
    const size_t len = std::min<size_t>(static_cast<size_t>(sizes[i % sizes.size()]), tokens.size() - start);
    outs.push_back(session.feed(std::vector<int64_t>(tokens.begin() + static_cast<std::ptrdiff_t>(start),
                                                     tokens.begin() + static_cast<std::ptrdiff_t>(start + len)),
                                score));
    start += len;
  }
  return torch::cat(outs, 0);
}

TEST(Session, PiecesOfAnySizeGiveTheWholeForward) {
  int tested = 0;
  for (const auto& c : session_cases()) {
    if (!has_variants(c.variants)) {
      std::cout << "[session] skip " << c.name << ": variant not built\n";
      continue;
    }
    SCOPED_TRACE(c.name);
    auto overrides = c.overrides;
    overrides.push_back("model.dropout=0.1");  // the session must run in eval mode
    Transformer model = model_with(overrides);
    EXPECT_EQ(model->segment_length(), c.segment);
    const auto tokens = random_tokens(100, 5);
    const auto whole = whole_forward(model, tokens);
    ASSERT_TRUE(model->is_training());

    Session session(*model);
    const auto pieces = feed_in_pieces(session, tokens, {3, 5, 7, 1, 13});
    EXPECT_TRUE(model->is_training()) << "the model gets its training mode back";
    const double err = max_abs_diff(pieces, whole);
    std::cout << "[session] " << c.name << " pieces 3,5,7,1,13 vs whole forward: max abs diff " << err << "\n";
    EXPECT_LE(err, 1e-5);
    EXPECT_EQ(session.position(), 100);
    EXPECT_LE(max_abs_diff(session.last_logits(), whole[99]), 1e-5);
    // Token by token too.
    Session single(*model);
    EXPECT_LE(max_abs_diff(feed_in_pieces(single, tokens, {1}), whole), 1e-5);

    // The comparison sees the carried state: the second half fed to a fresh session differs.
    Session fresh(*model);
    auto second = fresh.feed(std::vector<int64_t>(tokens.begin() + 52, tokens.end()));
    EXPECT_GT(max_abs_diff(second, whole.narrow(0, 52, 48)), 1e-3);
    ++tested;
  }
  EXPECT_GE(tested, 2);
}

TEST(Session, StateBytesStayConstantOverAStreamFiftySegmentsLong) {
  for (const auto& c : session_cases()) {
    if (c.segment == 0 || !has_variants(c.variants)) continue;
    SCOPED_TRACE(c.name);
    Transformer model = model_with(c.overrides);
    const auto tokens = random_tokens(50 * c.segment, 9);
    // Pieces of the segment length: every feed ends on a boundary, so the bytes never change after the first.
    Session aligned(*model);
    std::vector<int64_t> bytes;
    for (int64_t s = 0; s < 50; ++s) {
      aligned.feed(std::vector<int64_t>(tokens.begin() + s * c.segment, tokens.begin() + (s + 1) * c.segment));
      bytes.push_back(aligned.state_bytes());
    }
    EXPECT_GT(bytes.front(), 0);
    for (size_t s = 1; s < bytes.size(); ++s) EXPECT_EQ(bytes[s], bytes[0]) << "after segment " << s;
    std::cout << "[session] " << c.name << " state bytes after every segment of " << 50 * c.segment
              << " tokens: " << bytes.front() << "\n";

    // Pieces of other sizes: after the first segment the bytes depend on position mod segment only.
    Session ragged(*model);
    std::map<int64_t, int64_t> by_remainder;
    size_t start = 0;
    const std::vector<int64_t> sizes = {3, 5, 7, 1, 13};
    for (size_t i = 0; start < tokens.size(); ++i) {
      const size_t len = std::min<size_t>(static_cast<size_t>(sizes[i % sizes.size()]), tokens.size() - start);
      ragged.feed(std::vector<int64_t>(tokens.begin() + static_cast<std::ptrdiff_t>(start),
                                       tokens.begin() + static_cast<std::ptrdiff_t>(start + len)));
      start += len;
      const int64_t position = ragged.position(), b = ragged.state_bytes();
      if (position < c.segment) continue;
      auto it = by_remainder.emplace(position % c.segment, b).first;
      EXPECT_EQ(b, it->second) << "position " << position;
    }
    EXPECT_GE(by_remainder.size(), 4u);
    EXPECT_EQ(ragged.state_bytes(), bytes.back());  // the same position as the aligned stream's end
  }
}

TEST(Session, StateBytesMeasureWhatIsHeld) {
  // Without segments a softmax layer caches every token: the bytes grow by the cache's size per token.
  if (!has_variants({"causal"})) GTEST_SKIP() << "causal not built";
  Transformer model = model_with({"attention.attention_variant=causal", "attention.n_kv_group=2"});
  Session session(*model);
  session.feed(random_tokens(10, 1));
  const int64_t at10 = session.state_bytes();
  session.feed(random_tokens(30, 2));
  // 2 layers x (k + v) x kv heads 2 x head dim 8 x 4 bytes per token.
  EXPECT_EQ(session.state_bytes() - at10, 30 * 2 * 2 * 2 * 8 * 4);
  EXPECT_EQ(at10, 10 * 2 * 2 * 2 * 8 * 4);
  session.reset();
  EXPECT_EQ(session.state_bytes(), 0);

  // Recurrent layers without segments hold a fixed state, whatever the pieces' sizes.
  if (!has_variants({"ssm", "linear"})) return;
  Transformer recurrent = model_with({"attention.attention_list=[ssm, linear]"});
  Session stream(*recurrent);
  stream.feed(random_tokens(5, 3));
  const int64_t fixed = stream.state_bytes();
  EXPECT_GT(fixed, 0);
  for (int64_t n : {1, 40, 7, 100}) {
    stream.feed(random_tokens(n, static_cast<uint64_t>(n)));
    EXPECT_EQ(stream.state_bytes(), fixed) << "after a piece of " << n;
  }
}

TEST(Session, GenerateEqualsGenerateFromScratchOnTheSamePrefix) {
  for (const auto& c : session_cases()) {
    if (!has_variants(c.variants)) continue;
    SCOPED_TRACE(c.name);
    Transformer model = model_with(c.overrides);
    const auto prefix = random_tokens(21, 3);  // crosses two segment boundaries
    for (double temperature : {0.0, 1.0}) {
      GenerateOptions options;
      options.max_new_tokens = 12;
      options.sampling.temperature = temperature;
      options.seed = 42;
      const auto scratch = infer::generate(*model, prefix, options);
      Session session(*model);
      feed_in_pieces(session, prefix, {5, 3});
      const auto streamed = session.generate(options);
      EXPECT_EQ(streamed.tokens, scratch.tokens) << "temperature " << temperature;
      EXPECT_EQ(streamed.reason, infer::StopReason::MaxTokens);
      ASSERT_EQ(streamed.tokens.size(), 12u);
      // The new tokens are part of the stream: its state and last logits are those of prefix + tokens, and a
      // later piece continues after them.
      EXPECT_EQ(session.position(), 33);
      std::vector<int64_t> all = prefix;
      all.insert(all.end(), streamed.tokens.begin(), streamed.tokens.end());
      const auto more = random_tokens(6, 8);
      auto after = session.feed(more);
      all.insert(all.end(), more.begin(), more.end());
      const auto whole = whole_forward(model, all);
      EXPECT_LE(max_abs_diff(after, whole.narrow(0, 33, 6)), 1e-5);
    }
  }
}

TEST(Session, StopTokenEndsGenerationAndStaysOutOfTheStream) {
  if (!has_variants({"causal", "infini"})) GTEST_SKIP() << "infini not built";
  Transformer model = model_with(session_cases()[0].overrides);
  const auto prefix = random_tokens(11, 4);
  GenerateOptions options;
  options.max_new_tokens = 6;
  options.sampling.temperature = 0.0;
  Session probe(*model);
  probe.feed(prefix);
  const auto full = probe.generate(options).tokens;
  ASSERT_EQ(full.size(), 6u);
  options.stop_tokens = {full[0]};
  Session session(*model);
  session.feed(prefix);
  const auto before = session.last_logits().clone();
  const auto stopped = session.generate(options);
  EXPECT_TRUE(stopped.tokens.empty());
  EXPECT_EQ(stopped.reason, infer::StopReason::StopToken);
  EXPECT_EQ(session.position(), 11);
  EXPECT_TRUE(torch::equal(session.last_logits(), before));
  // Cancelled before the first draw: nothing new.
  std::atomic<bool> cancel{true};
  options.stop_tokens.clear();
  EXPECT_EQ(session.generate(options, &cancel).reason, infer::StopReason::Cancelled);
  EXPECT_EQ(session.position(), 11);
}

TEST(Session, ResetGivesTheLogitsOfAFreshSession) {
  if (!has_variants({"causal", "infini"})) GTEST_SKIP() << "infini not built";
  Transformer model = model_with(session_cases()[0].overrides);
  const auto first = random_tokens(29, 6), second = random_tokens(19, 7);
  Session session(*model);
  session.feed(first);
  const int64_t bytes_fresh = Session(*model).state_bytes();
  session.reset();
  EXPECT_EQ(session.position(), 0);
  EXPECT_FALSE(session.last_logits().defined());
  EXPECT_EQ(session.state_bytes(), bytes_fresh);
  auto after_reset = feed_in_pieces(session, second, {4, 9});
  Session fresh(*model);
  auto from_fresh = feed_in_pieces(fresh, second, {4, 9});
  EXPECT_TRUE(torch::equal(after_reset, from_fresh));
  // Without the reset the same tokens give other logits (the first stream is remembered).
  Session carried(*model);
  carried.feed(first);
  EXPECT_GT(max_abs_diff(feed_in_pieces(carried, second, {4, 9}), from_fresh), 1e-3);
}

TEST(Session, NextTokenLossEqualsTheWholeForwardsCrossEntropy) {
  if (!has_variants({"causal", "infini"})) GTEST_SKIP() << "infini not built";
  Transformer model = model_with(session_cases()[0].overrides);
  const auto tokens = random_tokens(70, 12);
  const auto whole = whole_forward(model, tokens);
  auto ids = torch::tensor(tokens, torch::kLong);
  const double expected =
      torch::nn::functional::cross_entropy(whole.narrow(0, 0, 69).to(torch::kFloat64), ids.narrow(0, 1, 69))
          .item<double>();
  for (std::vector<int64_t> sizes : {std::vector<int64_t>{70}, {3, 5, 7, 1, 13}, {1}}) {
    Session session(*model);
    FeedScore score;
    feed_in_pieces(session, tokens, sizes, &score);
    EXPECT_EQ(score.predicted, 69);
    EXPECT_NEAR(score.loss_sum / static_cast<double>(score.predicted), expected, 1e-5) << "pieces of " << sizes[0];
  }
}

TEST(Session, ErrorsLeaveTheStreamUnchanged) {
  Transformer model = model_with({});
  Session session(*model);
  GenerateOptions options;
  try {
    session.generate(options);
    ADD_FAILURE() << "generate on an empty stream";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("the stream is empty"), std::string::npos) << e.what();
  }
  session.feed({1, 2, 3});
  const auto last = session.last_logits().clone();
  try {
    session.feed({4, 97, 5});
    ADD_FAILURE() << "token 97 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("token 97 (index 1 of the piece) outside the vocabulary [0, 97)"),
              std::string::npos)
        << e.what();
  }
  options.max_new_tokens = -1;
  EXPECT_THROW(session.generate(options), Error);
  EXPECT_EQ(session.position(), 3);
  EXPECT_TRUE(torch::equal(session.last_logits(), last));
  auto empty = session.feed({});
  EXPECT_EQ(empty.size(0), 0);
  EXPECT_EQ(empty.size(1), 97);
  EXPECT_EQ(session.position(), 3);
}

}  // namespace
}  // namespace memtx::test
