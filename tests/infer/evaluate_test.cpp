// Tests of evaluation: the loss over hand-made masked batches equals a hand computation (with
// masked_lm_loss_sum, and independently with log_softmax), perplexity = exp(loss), token accuracy counts the
// masked targets the top logit predicts (a hand loop; 1 on a sequence the model wrote greedily), max_batches is
// respected, dropout is off and the training mode comes back; the config path over a synthetic dataset
// honours training.eval_max_batches and fails with NOT_FOUND without an evaluation split.
#include <ATen/CPUGeneratorImpl.h>

#include <atomic>
#include <cmath>

#include "infer/evaluate.hpp"
#include "memtx/error.hpp"
#include "model/test_support.hpp"
#include "model/lm_loss.hpp"
#include "tokenizer/tokenizer.hpp"

namespace memtx::test {
namespace {

// A batch of `rows` windows of length + 1 random tokens with random 0/1 masks (position 0 never counts).
data::Batch random_batch(int64_t rows, int64_t length, uint64_t seed, int64_t vocab = 97) {
  auto gen = at::detail::createCPUGenerator(seed);
  data::Batch b;
  b.batch = rows;
  b.length = length;
  auto tokens = torch::randint(0, vocab, {rows * (length + 1)}, gen, torch::kLong);
  auto mask = torch::randint(0, 2, {rows * (length + 1)}, gen, torch::kLong);
  for (int64_t i = 0; i < tokens.numel(); ++i) {
    b.tokens.push_back(tokens[i].item<int64_t>());
    b.mask.push_back(i % (length + 1) == 0 ? 0 : static_cast<uint8_t>(mask[i].item<int64_t>()));
  }
  return b;
}

infer::BatchSource source_of(const std::vector<data::Batch>& batches, size_t* served) {
  *served = 0;
  return [&batches, served](int64_t) { return *served < batches.size() ? batches[(*served)++] : data::Batch{}; };
}

struct Hand {
  double loss_sum = 0, independent_sum = 0, correct = 0;
  int64_t tokens = 0, rows = 0;
  int64_t rows_scored = 0, rows_right = 0;  // rows with a counted target; those right at every counted target
};

// Per batch: masked_lm_loss_sum of the model's logits, and the same sum written out with log_softmax.
Hand hand_computation(Transformer& model, const std::vector<data::Batch>& batches, size_t count) {
  torch::NoGradGuard no_grad;
  Hand h;
  for (size_t i = 0; i < count; ++i) {
    const auto& b = batches[i];
    const int64_t w = b.length + 1;
    auto tokens = torch::tensor(b.tokens, torch::kLong).reshape({b.batch, w});
    std::vector<float> mask_f(b.mask.begin(), b.mask.end());
    auto mask = torch::tensor(mask_f).reshape({b.batch, w});
    auto inputs = tokens.narrow(1, 0, b.length), targets = tokens.narrow(1, 1, b.length);
    auto weights = mask.narrow(1, 1, b.length);
    auto logits = model->forward(inputs.contiguous());
    h.loss_sum += masked_lm_loss_sum(logits, targets.contiguous(), weights.contiguous()).item<double>();
    auto nll = -logits.log_softmax(-1).gather(2, targets.unsqueeze(-1)).squeeze(-1);
    h.independent_sum += (nll.to(torch::kFloat64) * weights.to(torch::kFloat64)).sum().item<double>();
    h.tokens += static_cast<int64_t>(weights.sum().item<double>());
    auto l = logits.accessor<float, 3>();
    for (int64_t r = 0; r < b.batch; ++r) {
      bool scored = false, all_right = true;
      for (int64_t t = 0; t < b.length; ++t) {
        if (weights[r][t].item<float>() == 0) continue;
        int64_t best = 0;
        for (int64_t v = 1; v < l.size(2); ++v)
          if (l[r][t][v] > l[r][t][best]) best = v;
        const bool right = best == targets[r][t].item<int64_t>();
        h.correct += right ? 1 : 0;
        scored = true;
        all_right = all_right && right;
      }
      h.rows_scored += scored ? 1 : 0;
      h.rows_right += scored && all_right ? 1 : 0;
    }
    h.rows += b.batch;
  }
  return h;
}

TEST(Evaluate, LossIsTheMaskedMeanOverAllCountedTokens) {
  Transformer model(tiny_config({"model.dropout=0.4"}), plugin_registry());
  model->train();
  const std::vector<data::Batch> batches = {random_batch(2, 9, 1), random_batch(2, 9, 2), random_batch(1, 9, 3)};
  size_t served = 0;
  const auto result = infer::evaluate(*model, source_of(batches, &served), 2, std::nullopt);
  EXPECT_TRUE(model->is_training()) << "the training mode comes back";
  model->eval();
  const Hand h = hand_computation(model, batches, 3);
  EXPECT_EQ(result.batches, 3);
  EXPECT_EQ(result.sequences, 5);
  EXPECT_EQ(result.tokens, h.tokens);
  EXPECT_GT(h.tokens, 10);
  EXPECT_LT(h.tokens, 5 * 9) << "some targets are masked out";
  EXPECT_NEAR(result.loss, h.loss_sum / static_cast<double>(h.tokens), 1e-5);
  EXPECT_NEAR(result.loss, h.independent_sum / static_cast<double>(h.tokens), 1e-5);
  EXPECT_NEAR(result.perplexity, std::exp(result.loss), 1e-9 * result.perplexity);
  EXPECT_NEAR(result.accuracy, h.correct / static_cast<double>(h.tokens), 1e-12);
  EXPECT_EQ(result.scored_sequences, h.rows_scored);
  EXPECT_NEAR(result.sequence_accuracy, h.rows_right / static_cast<double>(h.rows_scored), 1e-12);
  // A near-uniform untrained model over 97 ids: loss close to ln 97 = 4.575.
  EXPECT_NEAR(result.loss, std::log(97.0), 0.3);
  EXPECT_FALSE(result.cancelled);
  EXPECT_GE(result.seconds, 0.0);
  // Dropout (0.4) was off: the same numbers again, in training mode.
  model->train();
  const auto again = infer::evaluate(*model, source_of(batches, &served), 2, std::nullopt);
  EXPECT_DOUBLE_EQ(again.loss, result.loss);
  for (const auto& p : model->parameters()) EXPECT_FALSE(p.grad().defined());
}

// A sequence the model wrote itself (each token its top choice after the ones before): accuracy 1, and
// replacing every target with another token: accuracy 0.
TEST(Evaluate, AccuracyIsOneOnTheModelsOwnGreedyText) {
  Transformer model(tiny_config(), plugin_registry());
  model->eval();
  torch::NoGradGuard no_grad;
  std::vector<int64_t> tokens = {5};
  for (int t = 0; t < 12; ++t)
    tokens.push_back(model->forward(torch::tensor(tokens, torch::kLong).unsqueeze(0))[0][-1].argmax().item<int64_t>());
  data::Batch b;
  b.batch = 1;
  b.length = 12;
  b.tokens = tokens;
  b.mask.assign(13, 1);
  b.mask[0] = 0;
  size_t served = 0;
  const std::vector<data::Batch> own = {b};
  EXPECT_DOUBLE_EQ(infer::evaluate(*model, source_of(own, &served), 1, std::nullopt).accuracy, 1.0);
  data::Batch wrong = b;
  for (size_t i = 1; i < wrong.tokens.size(); ++i) wrong.tokens[i] = (tokens[i] + 1) % 97;
  // Inputs change too, so score the shifted text against its own greedy choice: count where they differ.
  const std::vector<data::Batch> others = {wrong};
  const auto result = infer::evaluate(*model, source_of(others, &served), 1, std::nullopt);
  const Hand h = hand_computation(model, others, 1);
  EXPECT_NEAR(result.accuracy, h.correct / 12.0, 1e-12);
  EXPECT_LT(result.accuracy, 1.0);
}

// Exact match per row: the model's own greedy text is right everywhere; one wrong counted target makes its row
// wrong; the same wrong target masked out does not count; a row with nothing counted is not scored.
TEST(Evaluate, SequenceAccuracyCountsRowsRightAtEveryCountedTarget) {
  Transformer model(tiny_config(), plugin_registry());
  model->eval();
  torch::NoGradGuard no_grad;
  std::vector<int64_t> own = {7};
  for (int t = 0; t < 8; ++t)
    own.push_back(model->forward(torch::tensor(own, torch::kLong).unsqueeze(0))[0][-1].argmax().item<int64_t>());
  std::vector<int64_t> last_wrong = own;
  last_wrong.back() = (own.back() + 1) % 97;  // only the last target differs from the greedy choice
  data::Batch b;
  b.batch = 4;
  b.length = 8;
  std::vector<uint8_t> all(9, 1), all_but_last(9, 1), none(9, 0);
  all[0] = 0;
  all_but_last[0] = 0;
  all_but_last[8] = 0;
  for (const auto& [row, mask] : std::vector<std::pair<std::vector<int64_t>, std::vector<uint8_t>>>{
           {own, all}, {last_wrong, all}, {last_wrong, all_but_last}, {own, none}}) {
    b.tokens.insert(b.tokens.end(), row.begin(), row.end());
    b.mask.insert(b.mask.end(), mask.begin(), mask.end());
  }
  size_t served = 0;
  const std::vector<data::Batch> batches = {b};
  const auto result = infer::evaluate(*model, source_of(batches, &served), 4, std::nullopt);
  EXPECT_EQ(result.sequences, 4);
  EXPECT_EQ(result.scored_sequences, 3);
  EXPECT_DOUBLE_EQ(result.sequence_accuracy, 2.0 / 3.0);
  EXPECT_NEAR(result.accuracy, (8 + 7 + 7) / 23.0, 1e-12);
}

TEST(Evaluate, MaxBatchesIsRespected) {
  Transformer model(tiny_config(), plugin_registry());
  const std::vector<data::Batch> batches = {random_batch(2, 7, 11), random_batch(2, 7, 12), random_batch(2, 7, 13)};
  size_t served = 0;
  const auto two = infer::evaluate(*model, source_of(batches, &served), 2, int64_t{2});
  EXPECT_EQ(two.batches, 2);
  EXPECT_EQ(served, 2u) << "no batch is drawn beyond max_batches";
  model->eval();
  const Hand h = hand_computation(model, batches, 2);
  EXPECT_EQ(two.tokens, h.tokens);
  EXPECT_NEAR(two.loss, h.loss_sum / static_cast<double>(h.tokens), 1e-5);
  const auto all = infer::evaluate(*model, source_of(batches, &served), 2, int64_t{10});
  EXPECT_EQ(all.batches, 3);
  EXPECT_NE(all.loss, two.loss);
}

TEST(Evaluate, CancelAndBadArguments) {
  Transformer model(tiny_config(), plugin_registry());
  const std::vector<data::Batch> batches = {random_batch(2, 5, 21)};
  size_t served = 0;
  std::atomic<bool> cancel{true};
  const auto r = infer::evaluate(*model, source_of(batches, &served), 2, std::nullopt, &cancel);
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.batches, 0);
  EXPECT_TRUE(std::isnan(r.loss));
  for (auto bad : {std::make_pair<int64_t, int64_t>(0, 1), std::make_pair<int64_t, int64_t>(2, 0)}) {
    try {
      infer::evaluate(*model, source_of(batches, &served), bad.first, bad.second);
      ADD_FAILURE() << "accepted batch size " << bad.first << ", max_batches " << bad.second;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
    }
  }
}

Config synthetic_config(const std::vector<std::string>& extra) {
  std::vector<std::string> o = {"model.vocab_size=260", "training.dataset_name=synthetic:passkey?length=128&examples=80",
                                "training.eval_split=test", "training.eval_fraction=0.1", "training.max_length=128",
                                "training.batch_size=2", "training.training_mode=pretraining"};
  o.insert(o.end(), extra.begin(), extra.end());
  return tiny_config(o);
}

TEST(Evaluate, ConfigPathHonoursEvalMaxBatches) {
  const auto tokenizer = data::load_tokenizer("byte");
  Config whole = synthetic_config({});
  Transformer model(whole, plugin_registry());
  // 8 eval examples of 128 tokens + eos, packed into windows of 129: 8 windows, 4 batches of 2.
  const auto all = infer::evaluate_config(*model, whole, *tokenizer);
  EXPECT_EQ(all.sequences, 8);
  EXPECT_EQ(all.batches, 4);
  EXPECT_EQ(all.tokens, 8 * 128) << "pretraining counts every target";
  EXPECT_NE(all.split.find("test"), std::string::npos) << all.split;
  EXPECT_NEAR(all.perplexity, std::exp(all.loss), 1e-9 * all.perplexity);
  const auto two = infer::evaluate_config(*model, synthetic_config({"training.eval_max_batches=2"}), *tokenizer);
  EXPECT_EQ(two.batches, 2);
  EXPECT_EQ(two.sequences, 4);
  EXPECT_EQ(two.tokens, 4 * 128);
  // The first two batches are a part of the whole: the whole loss is their token-weighted combination
  // with the rest, so it differs, and evaluating twice gives the same numbers.
  EXPECT_NE(two.loss, all.loss);
  EXPECT_DOUBLE_EQ(infer::evaluate_config(*model, whole, *tokenizer).loss, all.loss);
  std::cout << "[evaluate] synthetic passkey: loss " << all.loss << " perplexity " << all.perplexity << " over "
            << all.tokens << " tokens; split " << all.split << "\n";
}

TEST(Evaluate, ConfigWithoutEvaluationSplitIsNotFound) {
  const auto tokenizer = data::load_tokenizer("byte");
  Config c = synthetic_config({"training.eval_split=null"});
  Transformer model(c, plugin_registry());
  try {
    infer::evaluate_config(*model, c, *tokenizer);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::NotFound);
    EXPECT_NE(std::string(e.what()).find("training.eval_split"), std::string::npos) << e.what();
  }
  Config none = synthetic_config({"training.eval_fraction=0"});
  try {
    infer::evaluate_config(*model, none, *tokenizer);
    ADD_FAILURE() << "no error with eval_fraction 0";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::NotFound) << e.what();
  }
}

}  // namespace
}  // namespace memtx::test
