// infer/evaluate.cpp: masked next-token loss summed over evaluation batches (formulas in evaluate.hpp).
#include "infer/evaluate.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

#include "data/dataset.hpp"
#include "infer/eval_mode.hpp"
#include "memtx/error.hpp"
#include "model/lm_loss.hpp"

namespace memtx::infer {
namespace {

// "test", or how the evaluation data was made when the dataset has no files for eval_split.
std::string split_name(const Config& config) {
  const std::string eval_split = config.get_opt_string("training.eval_split").value_or("");
  const data::DatasetSource src = data::resolve_dataset(config);
  std::ostringstream fraction;
  fraction << config.get_float("training.eval_fraction");
  if (src.kind == data::DatasetSource::Kind::Synthetic)
    return eval_split + " (synthetic: eval_fraction " + fraction.str() + " of the examples)";
  if (src.eval_held_out)
    return eval_split + " (held out: eval_fraction " + fraction.str() + " of " +
           config.get_string("training.dataset_split") + ")";
  return eval_split;
}

}  // namespace

EvalResult evaluate(TransformerImpl& model, const BatchSource& next_batch, int64_t batch_size,
                    std::optional<int64_t> max_batches, const std::atomic<bool>* cancel) {
  if (batch_size < 1)
    throw Error(StatusCode::InvalidArgument, "evaluate: batch size must be >= 1, got " + std::to_string(batch_size));
  if (max_batches && *max_batches < 1)
    throw Error(StatusCode::InvalidArgument,
                "evaluate: training.eval_max_batches must be >= 1 or null, got " + std::to_string(*max_batches));
  const auto start = std::chrono::steady_clock::now();
  EvalModeGuard eval_mode(model);
  torch::NoGradGuard no_grad;
  const torch::Device device = model.device();
  EvalResult result;
  double loss_sum = 0.0, correct = 0.0;
  int64_t rows_right = 0;
  while (!max_batches || result.batches < *max_batches) {
    if (cancel && cancel->load(std::memory_order_relaxed)) {
      result.cancelled = true;
      break;
    }
    const data::Batch batch = next_batch(batch_size);
    if (batch.empty()) break;
    const LmBatch lm = to_lm_batch(batch, device);
    const torch::Tensor logits = model.forward(lm.inputs);
    loss_sum += masked_lm_loss_sum(logits, lm.targets, lm.weights).item<double>();
    const torch::Tensor hit = logits.argmax(-1) == lm.targets, counted = lm.weights > 0;
    correct += hit.to(torch::kFloat64).mul(lm.weights).sum().item<double>();
    const torch::Tensor scored = counted.any(1);
    result.scored_sequences += scored.sum().item<int64_t>();
    rows_right += (scored & (hit | ~counted).all(1)).sum().item<int64_t>();
    result.tokens += lm.target_count;
    result.sequences += lm.rows;
    result.batches += 1;
  }
  result.loss = result.tokens > 0 ? loss_sum / static_cast<double>(result.tokens)
                                  : std::numeric_limits<double>::quiet_NaN();
  result.perplexity = std::exp(result.loss);
  result.accuracy = result.tokens > 0 ? correct / static_cast<double>(result.tokens)
                                      : std::numeric_limits<double>::quiet_NaN();
  result.sequence_accuracy = result.scored_sequences > 0
                                 ? static_cast<double>(rows_right) / static_cast<double>(result.scored_sequences)
                                 : std::numeric_limits<double>::quiet_NaN();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

EvalResult evaluate(TransformerImpl& model, data::BatchIterator& batches, int64_t batch_size,
                    std::optional<int64_t> max_batches, const std::atomic<bool>* cancel) {
  return evaluate(
      model, [&](int64_t rows) { return batches.next_batch(rows); }, batch_size, max_batches, cancel);
}

EvalResult evaluate_config(TransformerImpl& model, const Config& config, const data::Tokenizer& tokenizer,
                           const std::atomic<bool>* cancel) {
  const std::string dataset = config.get_string("training.dataset_name");
  if (!config.get_opt_string("training.eval_split"))
    throw Error(StatusCode::NotFound, "dataset '" + dataset +
                                          "' has no evaluation split: training.eval_split is null (set it, e.g. "
                                          "to test, to evaluate)");
  auto batches = data::make_batch_iterator(config, tokenizer, data::Split::Eval);
  if (!batches)
    throw Error(StatusCode::NotFound, "dataset '" + dataset + "' has no evaluation data for training.eval_split '" +
                                          config.get_string("training.eval_split") +
                                          "' (no files for it and nothing held out: training.eval_fraction is " +
                                          std::to_string(config.get_float("training.eval_fraction")) + ")");
  EvalResult result = evaluate(model, *batches, config.get_int("training.batch_size"),
                               config.get_opt_int("training.eval_max_batches"), cancel);
  result.split = split_name(config);
  if (result.tokens == 0 && !result.cancelled)
    throw Error(StatusCode::InvalidArgument, "dataset '" + dataset + "': the " + std::to_string(result.batches) +
                                                 " evaluation batches count no target token (every loss mask is 0)");
  return result;
}

}  // namespace memtx::infer
