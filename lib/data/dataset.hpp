// data/dataset.hpp: the training data pipeline from a configuration: resolve training.dataset_name
// (dataset_resolve.hpp), read the records (dataset_records.hpp) or draw a built-in synthetic dataset
// (synthetic.hpp), hold out evaluation data when needed (dataset_split.hpp), tokenize with loss masks,
// and pack into windows of training.max_length + 1 tokens served as batches (packing*.hpp).
//
// Loss masks: training.training_mode pretraining counts every token. instruction_finetuning counts, for
// chat records, each assistant message's content and its <|im_end|> (chat_template.hpp); for several-field
// records (text_field: [instruction, input, output]), the last field; for synthetic examples, the answer;
// and for plain text (one string field, .txt files), every token.
// Keys read: training.dataset_name, dataset_subset, dataset_split, eval_split, text_field, training_mode,
// max_length, data_root, eval_fraction, data_seed, num_epochs.
#pragma once
#include <memory>
#include <vector>

#include "data/dataset_document.hpp"
#include "data/dataset_resolve.hpp"
#include "data/packing.hpp"
#include "data/packing_iterator.hpp"
#include "memtx/config.hpp"
#include "tokenizer/tokenizer.hpp"

namespace memtx::data {

// The tokenized documents of a split (empty for Eval when eval_split is null or nothing is held out).
std::vector<Document> load_documents(const Config& config, const Tokenizer& tokenizer, Split split);

// Train: shuffled by training.data_seed; Eval: file order. eos = the tokenizer's eos; pad = its pad token,
// else eos, else 0.
PackingOptions packing_options(const Config& config, const Tokenizer& tokenizer, Split split);

// The packed split; nullptr for an empty Eval split; Error(InvalidArgument) for training data without tokens.
std::shared_ptr<const PackedDataset> load_packed_dataset(const Config& config, const Tokenizer& tokenizer,
                                                         Split split);

// Train: training.num_epochs epochs (forever when null); Eval: one pass. nullptr for an empty Eval split.
std::unique_ptr<BatchIterator> make_batch_iterator(const Config& config, const Tokenizer& tokenizer, Split split);

}  // namespace memtx::data
