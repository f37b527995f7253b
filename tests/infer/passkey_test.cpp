// Tests of the passkey evaluation: oracle streams (which read the needle from what they are fed) give
// accuracy 1 with the closed-form answer log-likelihood, and partial oracles the exact digit accuracy; a
// window-limited oracle shows the needle sits at the requested depth (depth 0 = the prompt's first tokens,
// the first segment); a model that cannot know the key scores 0; the streamed model gives the answer
// log-likelihood of one full forward, whatever the chunk and batch sizes; options and cancellation.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <set>

#include "infer/passkey.hpp"
#include "memtx/error.hpp"
#include "model/test_support.hpp"
#include "tokenizer/tokenizer.hpp"

namespace memtx::test {
namespace {

using infer::PasskeyEvalOptions;

const data::Tokenizer& byte_tokenizer() {
  static const auto tokenizer = data::load_tokenizer("byte");
  return *tokenizer;
}

// Reads the byte stream it is fed like a perfect reader would: the key is the digit run after the first
// "The pass key is " it has seen (within its last `window` bytes when window > 0), and after the question's
// final "The pass key is" it puts logit 10 on the next byte of " " + key (others 0). Digits from index
// wrong_from on are answered off by one ((d + 1) mod 10). Records the longest piece it was fed.
class OracleStream : public infer::TokenStream {
 public:
  explicit OracleStream(size_t wrong_from = 1000, size_t window = 0) : wrong_from_(wrong_from), window_(window) {}
  void reset(int64_t batch) override { history_.assign(static_cast<size_t>(batch), ""); }
  torch::Tensor feed(const torch::Tensor& ids) override {
    EXPECT_EQ(ids.size(0), static_cast<int64_t>(history_.size()));
    longest_fed = std::max(longest_fed, ids.size(1));
    auto logits = torch::zeros({ids.size(0), kVocab});
    for (int64_t b = 0; b < ids.size(0); ++b) {
      auto& h = history_[static_cast<size_t>(b)];
      for (int64_t t = 0; t < ids.size(1); ++t) h += static_cast<char>(ids[b][t].item<int64_t>());
      const int next = next_byte(h);
      if (next >= 0) logits[b][next] = 10.0;
    }
    return logits;
  }
  std::unique_ptr<infer::TokenStream> fork() const override { return std::make_unique<OracleStream>(*this); }

  static constexpr int64_t kVocab = 259;
  int64_t longest_fed = 0;

 private:
  int next_byte(const std::string& all) const {
    const std::string h = window_ > 0 && all.size() > window_ ? all.substr(all.size() - window_) : all;
    const std::string marker = "The pass key is ";
    const size_t needle = h.find(marker);
    if (needle == std::string::npos) return -1;
    const std::string key = infer::leading_digits(h.substr(needle + marker.size()));
    const size_t question = h.rfind("The pass key is");
    if (key.empty() || question == std::string::npos || question == needle) return -1;
    const size_t k = h.size() - (question + marker.size() - 1);  // answer bytes already fed
    const std::string answer = " " + key;
    if (k >= answer.size()) return -1;
    char c = answer[k];
    if (k >= 1 && k - 1 >= wrong_from_) c = static_cast<char>('0' + (c - '0' + 1) % 10);
    return static_cast<unsigned char>(c);
  }

  std::vector<std::string> history_;
  size_t wrong_from_, window_;
};

// log softmax of logit 10 among 258 zeros: the oracle's log-probability of each answer token.
double oracle_token_log_prob() { return 10.0 - std::log(std::exp(10.0) + 258.0); }

PasskeyEvalOptions grid(std::vector<int64_t> lengths, std::vector<double> depths, int64_t trials = 4) {
  PasskeyEvalOptions o;
  o.lengths = std::move(lengths);
  o.depths = std::move(depths);
  o.trials = trials;
  return o;
}

TEST(Passkey, LeadingDigits) {
  EXPECT_EQ(infer::leading_digits(" 12345"), "12345");
  EXPECT_EQ(infer::leading_digits("  907x1"), "907");
  EXPECT_EQ(infer::leading_digits("x123"), "");
  EXPECT_EQ(infer::leading_digits(""), "");
}

TEST(Passkey, OracleScoresEveryCellWithTheClosedFormLogLikelihood) {
  OracleStream oracle;
  auto o = grid({200, 600}, {0, 0.5, 1}, 5);
  const auto r = infer::evaluate_passkey(oracle, OracleStream::kVocab, byte_tokenizer(), o);
  ASSERT_EQ(r.cells.size(), 6u);
  EXPECT_DOUBLE_EQ(r.accuracy, 1.0);
  const double expected_ll = 6 * oracle_token_log_prob();  // " NNNNN": 6 byte tokens
  for (const auto& cell : r.cells) {
    EXPECT_EQ(cell.correct, 5);
    EXPECT_DOUBLE_EQ(cell.accuracy, 1.0);
    EXPECT_DOUBLE_EQ(cell.digit_accuracy, 1.0);
    EXPECT_NEAR(cell.mean_log_likelihood, expected_ll, 1e-9);
    for (const auto& t : cell.trials) {
      EXPECT_EQ(t.output, " " + t.passkey);
      EXPECT_EQ(t.passkey.size(), 5u);
    }
  }
  // Lengths outer, depths inner, as given.
  EXPECT_EQ(r.cells[0].length, 200);
  EXPECT_EQ(r.cells[2].depth, 1.0);
  EXPECT_EQ(r.cells[3].length, 600);
  EXPECT_EQ(r.cells[3].depth, 0.0);
  // The evaluation hands a prompt of up to 65536 tokens over at once (the model's stream chunks it itself).
  EXPECT_GE(oracle.longest_fed, 150);
}

TEST(Passkey, LongPromptsAreFedInPiecesAndStillAnswered) {
  // A 70000-token prompt is written and fed in pieces of at most 65536 tokens (never held whole); the oracle, which
  // reads every byte it is fed, still finds the needle at depth 0 (the first piece) and at depth 1 (the last).
  OracleStream oracle;
  auto o = grid({70000}, {0, 1}, 2);
  const auto r = infer::evaluate_passkey(oracle, OracleStream::kVocab, byte_tokenizer(), o);
  EXPECT_DOUBLE_EQ(r.accuracy, 1.0);
  EXPECT_EQ(oracle.longest_fed, 65536);
  for (const auto& cell : r.cells)
    for (const auto& t : cell.trials) EXPECT_EQ(t.output, " " + t.passkey);
}

TEST(Passkey, PartlyWrongAnswersCountAsWrongWithExactDigitAccuracy) {
  OracleStream oracle(/*wrong_from=*/3);  // digits 0, 1, 2 right; 3, 4 off by one
  const auto r = infer::evaluate_passkey(oracle, OracleStream::kVocab, byte_tokenizer(), grid({300}, {0.5}, 6));
  ASSERT_EQ(r.cells.size(), 1u);
  EXPECT_EQ(r.cells[0].correct, 0);
  EXPECT_DOUBLE_EQ(r.cells[0].accuracy, 0.0);
  EXPECT_DOUBLE_EQ(r.cells[0].digit_accuracy, 3.0 / 5.0);
  for (const auto& t : r.cells[0].trials) EXPECT_EQ(t.digits_right, 3);
  // The teacher-forced log-likelihood still sees the true answer: 4 tokens at the oracle's probability,
  // 2 at uniform-among-the-rest probability 1 / (e^10 + 258).
  const double rest = -std::log(std::exp(10.0) + 258.0);
  EXPECT_NEAR(r.cells[0].mean_log_likelihood, 4 * oracle_token_log_prob() + 2 * rest, 1e-9);
}

TEST(Passkey, NeedleSitsAtTheRequestedDepthIncludingTheFirstSegment) {
  // An oracle that remembers only its last 160 bytes finds the needle right before the question (depth 1)
  // but not at the start of a 1000-token prompt (depth 0), nor in its middle.
  OracleStream window(/*wrong_from=*/1000, /*window=*/160);
  const auto r = infer::evaluate_passkey(window, OracleStream::kVocab, byte_tokenizer(), grid({1000}, {0, 0.5, 1}, 3));
  ASSERT_EQ(r.cells.size(), 3u);
  EXPECT_DOUBLE_EQ(r.cells[0].accuracy, 0.0);
  EXPECT_DOUBLE_EQ(r.cells[1].accuracy, 0.0);
  EXPECT_DOUBLE_EQ(r.cells[2].accuracy, 1.0);

  // Depth 0: the needle is the prompt's first tokens (the byte tokenizer has no prefix), inside a first
  // segment of 64 tokens; depth 1 ends right before the question; 0.5 lies within one filler sentence.
  const std::string question = std::string(" ") + data::kPasskeyQuestion;
  for (int64_t trial = 0; trial < 3; ++trial) {
    const auto first = infer::passkey_trial_example(byte_tokenizer(), 1000, 0.0, 5, 7, trial);
    EXPECT_EQ(first.needle_begin, 0);
    EXPECT_LE(first.needle_end, 64);
    const std::vector<int64_t> needle(first.prompt.begin(), first.prompt.begin() + first.needle_end);
    EXPECT_EQ(byte_tokenizer().decode(needle),
              "The pass key is " + first.passkey + ". Remember it. " + first.passkey + " is the pass key.");
    EXPECT_EQ(first.prompt.size() + first.answer.size(), 1000u);

    // Depth 1: at most the rest of one filler sentence (<= 22 tokens) between the needle and the question.
    const auto last = infer::passkey_trial_example(byte_tokenizer(), 1000, 1.0, 5, 7, trial);
    const int64_t gap = static_cast<int64_t>(last.prompt.size() - question.size()) - last.needle_end;
    EXPECT_GE(gap, 0);
    EXPECT_LE(gap, 22);
    const auto middle = infer::passkey_trial_example(byte_tokenizer(), 1000, 0.5, 5, 7, trial);
    EXPECT_NEAR(middle.depth, 0.5, 22.0 / static_cast<double>(middle.filler_tokens));  // <= one sentence
    EXPECT_EQ(first.passkey, middle.passkey);  // trial t has one key in every cell
  }
  // The evaluation's depth-0 cell reports the needle at token 0.
  OracleStream oracle;
  const auto cells = infer::evaluate_passkey(oracle, OracleStream::kVocab, byte_tokenizer(), grid({256}, {0, 1}, 2));
  EXPECT_EQ(cells.cells[0].first_needle_begin, 0);
  EXPECT_DOUBLE_EQ(cells.cells[0].mean_depth, 0.0);
  EXPECT_GT(cells.cells[1].first_needle_begin, 100);
  EXPECT_GT(cells.cells[1].mean_depth, 0.8);
}

TEST(Passkey, TrialsHaveSeededKeys) {
  OracleStream oracle;
  auto o = grid({200}, {0.25, 0.75}, 8);
  const auto a = infer::evaluate_passkey(oracle, OracleStream::kVocab, byte_tokenizer(), o);
  std::set<std::string> keys;
  for (size_t t = 0; t < 8; ++t) {
    EXPECT_EQ(a.cells[0].trials[t].passkey, a.cells[1].trials[t].passkey);
    keys.insert(a.cells[0].trials[t].passkey);
  }
  EXPECT_GE(keys.size(), 7u);
  o.seed = 1;
  const auto b = infer::evaluate_passkey(oracle, OracleStream::kVocab, byte_tokenizer(), o);
  EXPECT_NE(a.cells[0].trials[0].passkey, b.cells[0].trials[0].passkey);
}

TEST(Passkey, BlindStreamScoresZeroWithUniformLogLikelihood) {
  // All-zero logits: greedy takes id 0 every time, and every answer token has probability 1 / 259.
  class Blind : public infer::TokenStream {
   public:
    void reset(int64_t b) override { batch_ = b; }
    torch::Tensor feed(const torch::Tensor&) override { return torch::zeros({batch_, 259}); }
    std::unique_ptr<TokenStream> fork() const override { return std::make_unique<Blind>(*this); }
    int64_t batch_ = 0;
  } blind;
  const auto r = infer::evaluate_passkey(blind, 259, byte_tokenizer(), grid({150}, {0, 1}, 3));
  EXPECT_DOUBLE_EQ(r.accuracy, 0.0);
  for (const auto& cell : r.cells) {
    EXPECT_DOUBLE_EQ(cell.digit_accuracy, 0.0);
    EXPECT_NEAR(cell.mean_log_likelihood, -6 * std::log(259.0), 1e-9);
  }
}

Transformer infini_model() {
  return Transformer(tiny_config({"model.vocab_size=259", "model.init_std=0.2", "attention.attention_list=[causal, infini]",
                                  "infini_attention.segment_length=16", "infini_attention.memory_update=delta"}),
                     plugin_registry());
}

TEST(Passkey, RandomModelCannotKnowTheKey) {
  if (!plugin_registry().find("infini")) GTEST_SKIP() << "infini plugin not built";
  auto model = infini_model();
  const auto r = infer::evaluate_passkey(*model, byte_tokenizer(), grid({120, 240}, {0, 0.5, 1}, 4));
  ASSERT_EQ(r.cells.size(), 6u);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.0);
  EXPECT_EQ(r.segment_length, 16);
  EXPECT_EQ(r.chunk_tokens, 16);
  for (const auto& cell : r.cells) {
    EXPECT_LT(cell.digit_accuracy, 0.5);
    EXPECT_LT(cell.mean_log_likelihood, -3.0);  // far from knowing 5 digits
  }
  EXPECT_TRUE(model->is_training());  // the evaluation gave the training mode back
}

TEST(Passkey, StreamedLogLikelihoodEqualsOneFullForward) {
  if (!plugin_registry().find("infini")) GTEST_SKIP() << "infini plugin not built";
  auto model = infini_model();
  model->eval();
  auto o = grid({150}, {0.0, 0.6}, 3);
  o.chunk_tokens = 5;  // pieces that do not line up with the 16-token segments
  o.batch_size = 2;    // 3 trials: a batch of 2 and one of 1
  const auto r = infer::evaluate_passkey(*model, byte_tokenizer(), o);
  o.chunk_tokens = 0;
  o.batch_size = 16;
  const auto whole = infer::evaluate_passkey(*model, byte_tokenizer(), o);
  ASSERT_EQ(r.cells.size(), 2u);
  torch::NoGradGuard no_grad;
  for (size_t c = 0; c < 2; ++c) {
    for (int64_t t = 0; t < 3; ++t) {
      const auto ex = infer::passkey_trial_example(byte_tokenizer(), 150, o.depths[c], 5, 0, t);
      std::vector<int64_t> ids = ex.prompt;
      ids.insert(ids.end(), ex.answer.begin(), ex.answer.end());
      auto logp = torch::log_softmax(model->forward(torch::tensor(ids, torch::kLong).unsqueeze(0))[0].to(torch::kFloat64), -1);
      double ll = 0;
      const auto P = static_cast<int64_t>(ex.prompt.size());
      for (size_t i = 0; i < ex.answer.size(); ++i) ll += logp[P - 1 + static_cast<int64_t>(i)][ex.answer[i]].item<double>();
      EXPECT_NEAR(r.cells[c].trials[static_cast<size_t>(t)].log_likelihood, ll, 1e-3);
      EXPECT_NEAR(whole.cells[c].trials[static_cast<size_t>(t)].log_likelihood, ll, 1e-3);
      EXPECT_EQ(r.cells[c].trials[static_cast<size_t>(t)].output, whole.cells[c].trials[static_cast<size_t>(t)].output);
    }
  }
  EXPECT_FALSE(model->is_training());
}

TEST(Passkey, BadOptionsAreNamed) {
  OracleStream oracle;
  auto expect_error = [&](PasskeyEvalOptions o, const std::string& fragment) {
    try {
      infer::evaluate_passkey(oracle, 259, byte_tokenizer(), o);
      ADD_FAILURE() << "no error for " << fragment;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_error(grid({}, {0.5}), "lengths is empty");
  expect_error(grid({200}, {}), "depths is empty");
  expect_error(grid({200}, {1.5}), "depth 1.5");
  expect_error(grid({200}, {0.5}, 0), "trials must be >= 1");
  expect_error(grid({20}, {0.5}), "length 20 is below the shortest prompt");
  auto o = grid({200}, {0.5});
  o.digits = 19;
  expect_error(o, "digits must be in 1..18");
  o = grid({200}, {0.5});
  o.batch_size = 0;
  expect_error(o, "batch_size");
}

TEST(Passkey, CancelStopsBeforeTheNextBatch) {
  OracleStream oracle;
  std::atomic<bool> cancel{true};
  const auto r = infer::evaluate_passkey(oracle, 259, byte_tokenizer(), grid({200}, {0, 1}), &cancel);
  EXPECT_TRUE(r.cancelled);
  EXPECT_TRUE(r.cells.empty());
  // A callback sees every finished cell in order.
  std::vector<size_t> seen;
  infer::evaluate_passkey(oracle, 259, byte_tokenizer(), grid({200, 300}, {0, 1}, 1), nullptr,
                          [&](const infer::PasskeyCell&, size_t i, size_t total) {
                            EXPECT_EQ(total, 4u);
                            seen.push_back(i);
                          });
  EXPECT_EQ(seen, (std::vector<size_t>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace memtx::test
