// infer/passkey.hpp: the passkey retrieval evaluation (the Infini-attention paper's; prompts from
// data/synthetic_passkey.hpp). For every cell (length L, depth d) and trial t = 0..trials-1:
//   example  = make_passkey_example(tokenizer, {L, d, key seed s_t, digits}),  s_t = derive_seed(seed, t)
//              (trial t has the same pass key in every cell, so cells differ only in length and depth)
//   prefill  the prompt streamed through the model with one ModelState, chunk_tokens tokens per forward
//            (default: the model's segment length, else 512), so memory stays bounded for recurrent models;
//            the prompt itself is never held whole: it is planned as runs (data/passkey_prompt.hpp) and its
//            tokens written 65536 at a time (rounded down to whole chunks)
//   greedy   n = |answer| tokens: y_i = argmax p(. | prompt, y_<i)   (ids below the tokenizer's vocabulary)
//   correct  the digits of decode(y) after leading spaces == the pass key (a longer digit run is wrong)
//   digits   sum_i [decode(y) digit i == key digit i] / digits      (partial credit, for weak models)
//   log-lik  sum_i log p(answer_i | prompt, answer_<i)              (teacher forced, natural log)
// accuracy = correct trials / trials; the cell also reports the mean digit accuracy, the mean answer
// log-likelihood, and where the needles were (realised depth, first token, segment index). Depth 0 puts the
// needle at the very start of the prompt (the first segment), depth 1 right before the question.
// Trials of a cell whose prompts have the same token count run as one batch (at most batch_size rows).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "data/synthetic_passkey.hpp"
#include "model/transformer.hpp"
#include "tokenizer/tokenizer.hpp"

namespace memtx::infer {

struct PasskeyEvalOptions {
  std::vector<int64_t> lengths = {1024};                  // tokens of prompt + answer
  std::vector<double> depths = {0.0, 0.25, 0.5, 0.75, 1.0};  // needle depth in [0, 1]
  int64_t trials = 10;                                    // prompts per cell
  int digits = 5;                                         // pass key digits, 1..18
  uint64_t seed = 0;                                      // picks the pass keys
  int64_t chunk_tokens = 0;                               // prompt tokens per forward; 0: see above
  int64_t batch_size = 16;                                // trials run together
};

struct PasskeyTrial {
  std::string passkey;
  std::string output;         // the greedy continuation's text (|answer| tokens)
  bool correct = false;
  int64_t digits_right = 0;   // positions where the output's digit equals the key's
  double log_likelihood = 0;  // of the answer tokens given the prompt
  int64_t needle_begin = 0;   // [needle_begin, needle_end): the needle's tokens in the prompt
  int64_t needle_end = 0;
  double depth = 0;           // realised depth (filler before the needle / all filler)
};

struct PasskeyCell {
  int64_t length = 0;
  double depth = 0;           // as requested
  std::vector<PasskeyTrial> trials;
  int64_t correct = 0;
  double accuracy = 0;
  double digit_accuracy = 0;
  double mean_log_likelihood = 0;
  double mean_depth = 0;        // realised
  int64_t first_needle_begin = 0;  // the smallest needle_begin over the trials
};

struct PasskeyResult {
  std::vector<PasskeyCell> cells;  // lengths outer, depths inner, in the order given
  int64_t segment_length = 0;      // the model's (0 when it has none)
  int64_t chunk_tokens = 0;        // prompt tokens per forward actually used
  double accuracy = 0;             // over all trials
  double seconds = 0;
  bool cancelled = false;          // *cancel was set: cells holds the cells finished before
};

// A language model read as a stream of token batches (the evaluation's view of a model; tests give stubs).
class MEMTX_API TokenStream {
 public:
  virtual ~TokenStream() = default;
  // Starts `batch` new sequences.
  virtual void reset(int64_t batch) = 0;
  // Continues every sequence with ids [batch, T] (T >= 1); returns the logits after the last id, [batch, V].
  virtual torch::Tensor feed(const torch::Tensor& ids) = 0;
  // An independent copy of the sequences as they are now.
  virtual std::unique_ptr<TokenStream> fork() const = 0;
};

// The model with a ModelState, fed chunk_tokens (>= 1) tokens per forward with use_cache, in eval mode
// without autograd (its training mode comes back when the stream is destroyed).
MEMTX_API std::unique_ptr<TokenStream> model_stream(TransformerImpl& model, int64_t chunk_tokens);

// Called after each finished cell with its index and the number of cells.
using PasskeyCellCallback = std::function<void(const PasskeyCell& cell, size_t index, size_t total)>;

// The example of trial `trial` of a cell (what evaluate_passkey feeds).
MEMTX_API data::PasskeyExample passkey_trial_example(const data::Tokenizer& tokenizer, int64_t length, double depth,
                                                     int digits, uint64_t seed, int64_t trial);

// Error(InvalidArgument) naming the option: no lengths or depths, a depth outside [0, 1], trials < 1,
// digits outside 1..18, chunk_tokens < 0, batch_size < 1, a length below the shortest passkey prompt.
MEMTX_API void check_passkey_options(const data::Tokenizer& tokenizer, const PasskeyEvalOptions& options);

// vocab_limit: greedy picks ids below it (> 0). Streams created by stream->fork() share nothing.
MEMTX_API PasskeyResult evaluate_passkey(TokenStream& stream, int64_t vocab_limit, const data::Tokenizer& tokenizer,
                                         const PasskeyEvalOptions& options, const std::atomic<bool>* cancel = nullptr,
                                         const PasskeyCellCallback& on_cell = nullptr);
// The model through model_stream (chunk_tokens 0: its segment length, else 512); greedy over the ids that
// both the tokenizer and the model have.
MEMTX_API PasskeyResult evaluate_passkey(TransformerImpl& model, const data::Tokenizer& tokenizer,
                                         const PasskeyEvalOptions& options, const std::atomic<bool>* cancel = nullptr,
                                         const PasskeyCellCallback& on_cell = nullptr);

// The digits of text after leading spaces ("" when it does not start with a digit).
MEMTX_API std::string leading_digits(const std::string& text);

}  // namespace memtx::infer
