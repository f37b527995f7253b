// infer/evaluate.hpp: the mean next-token loss and perplexity of a model over evaluation batches.
//   per batch b (model/lm_loss.hpp):  S_b = sum_i w_i * CE(logits_i, y_i),  N_b = sum_i w_i
//   loss = sum_b S_b / sum_b N_b       (every counted target token weighs the same)
//   perplexity = exp(loss)
//   accuracy = sum_b sum_i w_i [argmax logits_i == y_i] / sum_b N_b   (next-token accuracy of the greedy choice)
//   sequence_accuracy = share of the rows with a counted target whose every counted target is the argmax
//   (exact match: with one prompt-and-answer example per row and the answer alone counted, the share of
//   answers that greedy decoding reproduces token for token)
// A segmented model (Infini-attention) reads each whole window through its segment engine, carrying its
// memory from segment to segment, so these are the numbers of the whole sequence.
// Runs without autograd in eval mode and restores the model's training mode. The trainer evaluates with
// evaluate(model, iterator, ...); memtx_evaluate and `memtx-cli eval` with evaluate_config.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "data/packing_iterator.hpp"
#include "memtx/config.hpp"
#include "model/transformer.hpp"
#include "tokenizer/tokenizer.hpp"

namespace memtx::infer {

struct EvalResult {
  double loss = 0.0;        // NaN when no target token was counted
  double perplexity = 0.0;  // exp(loss)
  double accuracy = 0.0;    // share of counted targets the model's top choice predicts; NaN when none counted
  double sequence_accuracy = 0.0;  // share of rows (with a counted target) right at every counted target; NaN: none
  int64_t scored_sequences = 0;    // rows with at least one counted target
  int64_t tokens = 0;       // target tokens counted (sum of the loss weights)
  int64_t sequences = 0;    // rows (windows) evaluated
  int64_t batches = 0;
  double seconds = 0.0;
  bool cancelled = false;   // *cancel was set: the numbers cover the batches done before
  std::string split;        // evaluate_config: which data ("test", "test (held out: ...)")
};

// Returns the next batch of at most batch_size rows; an empty batch ends the data.
using BatchSource = std::function<data::Batch(int64_t batch_size)>;

// Evaluates batches until the source is exhausted or max_batches (>= 1 when set) batches were done.
// Error(InvalidArgument) for batch_size < 1 or max_batches < 1.
MEMTX_API EvalResult evaluate(TransformerImpl& model, const BatchSource& next_batch, int64_t batch_size,
                              std::optional<int64_t> max_batches, const std::atomic<bool>* cancel = nullptr);
MEMTX_API EvalResult evaluate(TransformerImpl& model, data::BatchIterator& batches, int64_t batch_size,
                              std::optional<int64_t> max_batches, const std::atomic<bool>* cancel = nullptr);

// The evaluation split that config's training section names (training.dataset_name, eval_split,
// eval_fraction, max_length, ...), tokenized with tokenizer, in batches of training.batch_size, at most
// training.eval_max_batches of them. Error(NotFound) when the data has no evaluation split;
// Error(InvalidArgument) when its loss masks count no token.
MEMTX_API EvalResult evaluate_config(TransformerImpl& model, const Config& config, const data::Tokenizer& tokenizer,
                                     const std::atomic<bool>* cancel = nullptr);

}  // namespace memtx::infer
