// infer/passkey.cpp: the passkey retrieval evaluation (see passkey.hpp): prompts per cell (planned as runs and
// written piece by piece, so a 1M-token prompt is never held whole), streamed prefill,
// greedy answer, teacher-forced answer log-likelihood, per-cell statistics.
#include "infer/passkey.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

#include "data/dataset_random.hpp"
#include "infer/eval_mode.hpp"
#include "memtx/error.hpp"

namespace memtx::infer {
namespace {

[[noreturn]] void bad_option(const std::string& what) {
  throw Error(StatusCode::InvalidArgument, "passkey: " + what);
}

// The model with its ModelState. Forks share the eval-mode guard: the last one alive restores training mode.
class ModelStream final : public TokenStream {
 public:
  ModelStream(TransformerImpl& model, int64_t chunk, std::shared_ptr<EvalModeGuard> guard)
      : model_(model), chunk_(chunk), guard_(std::move(guard)) {}

  void reset(int64_t batch) override {
    state_ = model_.initial_state(batch);
    batch_ = batch;
  }

  torch::Tensor feed(const torch::Tensor& ids) override {
    if (ids.dim() != 2 || ids.size(1) < 1 || ids.size(0) != batch_) {
      throw Error(StatusCode::InvalidArgument, "passkey: fed ids must be [" + std::to_string(batch_) +
                                                   ", T >= 1], got " + c10::str(ids.sizes()));
    }
    torch::NoGradGuard no_grad;
    torch::Tensor logits;
    for (int64_t offset = 0; offset < ids.size(1); offset += chunk_) {
      const int64_t n = std::min(chunk_, ids.size(1) - offset);
      logits = model_.forward(ids.narrow(1, offset, n), &state_, /*use_cache=*/true);
    }
    return logits.select(1, logits.size(1) - 1).to(torch::kCPU, torch::kFloat32);
  }

  std::unique_ptr<TokenStream> fork() const override {
    auto copy = std::make_unique<ModelStream>(model_, chunk_, guard_);
    copy->batch_ = batch_;
    copy->state_.position = state_.position;
    for (const auto& layer : state_.layers) {
      LayerState cloned;
      for (const auto& [key, tensor] : layer) cloned[key] = tensor.defined() ? tensor.clone() : tensor;
      copy->state_.layers.push_back(std::move(cloned));
    }
    return copy;
  }

 private:
  TransformerImpl& model_;
  int64_t chunk_;
  std::shared_ptr<EvalModeGuard> guard_;
  ModelState state_;
  int64_t batch_ = 0;  // rows of the current sequences (0 before reset)
};

// ids [rows, T] from equal-length token lists.
torch::Tensor stack_rows(const std::vector<const std::vector<int64_t>*>& rows) {
  const auto T = static_cast<int64_t>(rows.front()->size());
  auto out = torch::empty({static_cast<int64_t>(rows.size()), T}, torch::kLong);
  auto* p = out.data_ptr<int64_t>();
  for (const auto* r : rows) p = std::copy(r->begin(), r->end(), p);
  return out;
}

// A trial's example with its prompt as runs (data/passkey_prompt.hpp), never held whole.
struct PlannedTrial {
  data::PasskeyExample example;  // prompt empty
  data::PasskeyPrompt prompt;
};

// Feeds the prompts of `rows` (all of one length) piece tokens at a time; returns the logits after the last token.
torch::Tensor feed_prompts(TokenStream& stream, const std::vector<const data::PasskeyPrompt*>& rows, int64_t piece) {
  const int64_t T = rows.front()->size();
  const auto B = static_cast<int64_t>(rows.size());
  torch::Tensor logits;
  for (int64_t begin = 0; begin < T; begin += piece) {
    const int64_t n = std::min(piece, T - begin);
    auto ids = torch::empty({B, n}, torch::kLong);
    auto* p = ids.data_ptr<int64_t>();
    for (const auto* row : rows) {
      row->copy(begin, begin + n, p);
      p += n;
    }
    logits = stream.feed(ids);
  }
  return logits;
}

// Runs the trials `idx` of planned (same prompt and answer lengths) as one batch; fills their results.
void run_batch(TokenStream& stream, int64_t vocab_limit, int64_t piece, const data::Tokenizer& tokenizer,
               const std::vector<PlannedTrial>& planned, const std::vector<size_t>& idx,
               std::vector<PasskeyTrial>& trials) {
  const auto B = static_cast<int64_t>(idx.size());
  const auto n = static_cast<int64_t>(planned[idx.front()].example.answer.size());
  std::vector<const data::PasskeyPrompt*> prompts;
  std::vector<const std::vector<int64_t>*> answers;
  for (size_t i : idx) {
    prompts.push_back(&planned[i].prompt);
    answers.push_back(&planned[i].example.answer);
  }
  const torch::Tensor answer = stack_rows(answers);  // [B, n]

  stream.reset(B);
  const torch::Tensor first = feed_prompts(stream, prompts, piece);  // [B, V] after the prompt
  if (first.dim() != 2 || first.size(0) != B || first.size(1) < vocab_limit) {
    throw Error(StatusCode::Internal, "passkey: the stream returned logits " + c10::str(first.sizes()) +
                                          ", expected [" + std::to_string(B) + ", >= " + std::to_string(vocab_limit) + "]");
  }
  std::unique_ptr<TokenStream> forced = n > 1 ? stream.fork() : nullptr;

  // Greedy answer.
  auto greedy = torch::empty({B, n}, torch::kLong);
  torch::Tensor row = first;
  for (int64_t i = 0; i < n; ++i) {
    auto next = row.narrow(1, 0, vocab_limit).argmax(1);
    greedy.select(1, i).copy_(next);
    if (i + 1 < n) row = stream.feed(next.view({B, 1}));
  }

  // Teacher-forced log-likelihood of the answer.
  auto ll = torch::zeros({B}, torch::kFloat64);
  row = first;
  for (int64_t i = 0; i < n; ++i) {
    auto logp = torch::log_softmax(row.to(torch::kCPU, torch::kFloat64), 1);  // the answer ids live on the CPU
    ll += logp.gather(1, answer.select(1, i).view({B, 1})).view({B});
    if (i + 1 < n) row = forced->feed(answer.select(1, i).view({B, 1}).contiguous());
  }

  for (int64_t b = 0; b < B; ++b) {
    const auto& ex = planned[idx[static_cast<size_t>(b)]].example;
    auto g = greedy[b];
    std::vector<int64_t> ids(g.data_ptr<int64_t>(), g.data_ptr<int64_t>() + n);
    PasskeyTrial& t = trials[idx[static_cast<size_t>(b)]];
    t.passkey = ex.passkey;
    t.output = tokenizer.decode(ids);
    const std::string got = leading_digits(t.output);
    t.correct = got == ex.passkey;
    t.digits_right = 0;
    for (size_t k = 0; k < std::min(got.size(), ex.passkey.size()); ++k) t.digits_right += got[k] == ex.passkey[k];
    t.log_likelihood = ll[b].item<double>();
    t.needle_begin = ex.needle_begin;
    t.needle_end = ex.needle_end;
    t.depth = ex.depth;
  }
}

// The options of trial `trial` of a cell: its key seed is derived from (seed, trial) alone.
data::PasskeyOptions trial_options(int64_t length, double depth, int digits, uint64_t seed, int64_t trial) {
  data::PasskeyOptions o;
  o.length = length;
  o.depth = depth;
  o.digits = digits;
  o.seed = data::derive_seed(seed, "passkey-eval", static_cast<uint64_t>(trial));
  return o;
}

}  // namespace

std::unique_ptr<TokenStream> model_stream(TransformerImpl& model, int64_t chunk_tokens) {
  if (chunk_tokens < 1) bad_option("chunk_tokens must be >= 1, got " + std::to_string(chunk_tokens));
  return std::make_unique<ModelStream>(model, chunk_tokens, std::make_shared<EvalModeGuard>(model));
}

std::string leading_digits(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
  size_t j = i;
  while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
  return text.substr(i, j - i);
}

data::PasskeyExample passkey_trial_example(const data::Tokenizer& tokenizer, int64_t length, double depth, int digits,
                                           uint64_t seed, int64_t trial) {
  return data::make_passkey_example(tokenizer, trial_options(length, depth, digits, seed, trial));
}

void check_passkey_options(const data::Tokenizer& tokenizer, const PasskeyEvalOptions& o) {
  if (o.lengths.empty()) bad_option("lengths is empty (give at least one prompt length)");
  if (o.depths.empty()) bad_option("depths is empty (give at least one depth in [0, 1])");
  for (double d : o.depths)
    if (!(d >= 0.0 && d <= 1.0)) bad_option("depth " + std::to_string(d) + " is outside [0, 1]");
  if (o.trials < 1) bad_option("trials must be >= 1, got " + std::to_string(o.trials));
  if (o.digits < 1 || o.digits > 18) bad_option("digits must be in 1..18, got " + std::to_string(o.digits));
  if (o.chunk_tokens < 0) bad_option("chunk_tokens must be >= 0, got " + std::to_string(o.chunk_tokens));
  if (o.batch_size < 1) bad_option("batch_size must be >= 1, got " + std::to_string(o.batch_size));
  const int64_t minimum = data::passkey_min_length(tokenizer, o.digits);
  for (int64_t L : o.lengths) {
    if (L < minimum) {
      bad_option("length " + std::to_string(L) + " is below the shortest prompt with a " + std::to_string(o.digits) +
                 "-digit key, " + std::to_string(minimum) + " tokens with this tokenizer");
    }
  }
}

namespace {

// Prompt tokens handed to the stream per feed (a multiple of the model stream's chunk, so the chunks it runs are
// those of the whole prompt fed at once): bounds the ids held for a batch whatever the prompt's length.
constexpr int64_t kPromptPieceTokens = 65536;

PasskeyResult evaluate_passkey_in_pieces(TokenStream& stream, int64_t vocab_limit, int64_t piece,
                                         const data::Tokenizer& tokenizer, const PasskeyEvalOptions& options,
                                         const std::atomic<bool>* cancel, const PasskeyCellCallback& on_cell) {
  check_passkey_options(tokenizer, options);
  if (vocab_limit < 1) bad_option("vocab_limit must be >= 1, got " + std::to_string(vocab_limit));
  const auto start = std::chrono::steady_clock::now();
  auto cancelled = [&] { return cancel && cancel->load(std::memory_order_relaxed); };
  PasskeyResult result;
  const size_t total = options.lengths.size() * options.depths.size();
  int64_t correct = 0, counted = 0;
  for (int64_t length : options.lengths) {
    for (double depth : options.depths) {
      PasskeyCell cell;
      cell.length = length;
      cell.depth = depth;
      std::vector<PlannedTrial> planned(static_cast<size_t>(options.trials));
      for (int64_t t = 0; t < options.trials; ++t) {
        auto& trial = planned[static_cast<size_t>(t)];
        trial.example = data::plan_passkey_example(tokenizer, trial_options(length, depth, options.digits, options.seed, t),
                                                   &trial.prompt);
      }
      // Batches: trials with the same prompt and answer lengths, at most batch_size at a time.
      std::map<std::pair<int64_t, size_t>, std::vector<size_t>> groups;
      for (size_t i = 0; i < planned.size(); ++i)
        groups[{planned[i].prompt.size(), planned[i].example.answer.size()}].push_back(i);
      cell.trials.resize(planned.size());
      for (const auto& [shape, members] : groups) {
        for (size_t b = 0; b < members.size(); b += static_cast<size_t>(options.batch_size)) {
          if (cancelled()) {
            result.cancelled = true;
            break;
          }
          const size_t e = std::min(members.size(), b + static_cast<size_t>(options.batch_size));
          run_batch(stream, vocab_limit, piece, tokenizer, planned,
                    std::vector<size_t>(members.begin() + static_cast<std::ptrdiff_t>(b),
                                        members.begin() + static_cast<std::ptrdiff_t>(e)),
                    cell.trials);
        }
        if (result.cancelled) break;
      }
      if (result.cancelled) break;
      double digit_sum = 0, ll_sum = 0, depth_sum = 0;
      cell.first_needle_begin = cell.trials.front().needle_begin;
      for (const auto& t : cell.trials) {
        cell.correct += t.correct;
        digit_sum += static_cast<double>(t.digits_right) / static_cast<double>(options.digits);
        ll_sum += t.log_likelihood;
        depth_sum += t.depth;
        cell.first_needle_begin = std::min(cell.first_needle_begin, t.needle_begin);
      }
      const auto n = static_cast<double>(cell.trials.size());
      cell.accuracy = static_cast<double>(cell.correct) / n;
      cell.digit_accuracy = digit_sum / n;
      cell.mean_log_likelihood = ll_sum / n;
      cell.mean_depth = depth_sum / n;
      correct += cell.correct;
      counted += static_cast<int64_t>(cell.trials.size());
      result.cells.push_back(std::move(cell));
      if (on_cell) on_cell(result.cells.back(), result.cells.size() - 1, total);
    }
    if (result.cancelled) break;
  }
  result.accuracy = counted > 0 ? static_cast<double>(correct) / static_cast<double>(counted) : 0.0;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace

PasskeyResult evaluate_passkey(TokenStream& stream, int64_t vocab_limit, const data::Tokenizer& tokenizer,
                               const PasskeyEvalOptions& options, const std::atomic<bool>* cancel,
                               const PasskeyCellCallback& on_cell) {
  return evaluate_passkey_in_pieces(stream, vocab_limit, kPromptPieceTokens, tokenizer, options, cancel, on_cell);
}

PasskeyResult evaluate_passkey(TransformerImpl& model, const data::Tokenizer& tokenizer,
                               const PasskeyEvalOptions& options, const std::atomic<bool>* cancel,
                               const PasskeyCellCallback& on_cell) {
  check_passkey_options(tokenizer, options);
  const int64_t chunk = options.chunk_tokens > 0      ? options.chunk_tokens
                        : model.segment_length() > 0 ? model.segment_length()
                                                     : 512;
  auto stream = model_stream(model, chunk);
  const int64_t vocab_limit = std::min(tokenizer.vocab_size(), model.spec().vocab_size);
  const int64_t piece = chunk * std::max<int64_t>(1, kPromptPieceTokens / chunk);
  PasskeyResult result = evaluate_passkey_in_pieces(*stream, vocab_limit, piece, tokenizer, options, cancel, on_cell);
  result.segment_length = model.segment_length();
  result.chunk_tokens = chunk;
  return result;
}

}  // namespace memtx::infer
