// data/synthetic.hpp: the built-in synthetic datasets, which need no files, so training runs anywhere.
//
// training.dataset_name selects one, with optional parameters after '?', joined by '&':
//   synthetic:passkey[?length=N&min_length=M&depth=D&digits=K&examples=E]
//     length   tokens per example; default training.max_length, so with packing every window holds exactly
//              one example
//     min_length  with it, each example's prompt + answer is M..N tokens (uniform) and filler text after the
//              answer (no loss in instruction_finetuning) makes up the N, so the question falls at every
//              offset within the model's segments; without it, prompt + answer is N tokens
//     depth    needle depth in [0, 1], or "random" (the default: drawn per example)
//     digits   pass key digits, default 5
//     examples training examples, default 500
//   synthetic:associative_recall[?pairs=P&key_length=K&value_digits=V&examples=E]
//     pairs 16, key_length 3, value_digits 3, examples 2000 by default
// e.g. "synthetic:passkey?length=512&depth=0.5". Examples are drawn from training.data_seed; the eval split
// holds max(1, round(examples * training.eval_fraction)) other examples (a different seed stream). In
// instruction_finetuning only the answer carries the loss; in pretraining every token does.
// An unknown or malformed parameter is Error(Config) naming it and the parameters the dataset takes.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset_document.hpp"
#include "tokenizer/tokenizer.hpp"

namespace memtx::data {

struct SyntheticSpec {
  std::string name;       // as given
  std::string generator;  // "passkey" or "associative_recall"
  int64_t examples = 0;
  // passkey
  std::optional<int64_t> length;  // default: training.max_length
  std::optional<int64_t> min_length;  // prompt + answer drawn from [min_length, length]
  std::optional<double> depth;    // nullopt: random per example
  int digits = 5;
  // associative_recall
  int64_t pairs = 16;
  int key_length = 3;
  int value_digits = 3;
};

// "synthetic:passkey", "synthetic:associative_recall".
std::vector<std::string> synthetic_dataset_names();

// nullopt when `name` is not "synthetic:<known generator>[?params]"; Error(Config) for bad parameters.
std::optional<SyntheticSpec> parse_synthetic_name(const std::string& name);

// `count` examples drawn from `seed`. default_length: passkey length when the spec has none.
std::vector<Document> synthetic_documents(const Tokenizer& tokenizer, const SyntheticSpec& spec, int64_t count,
                                          uint64_t seed, int64_t default_length, bool instruction_finetuning);

}  // namespace memtx::data
