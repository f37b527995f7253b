// data/dataset.cpp: the configuration-driven data pipeline (dataset.hpp).
#include "data/dataset.hpp"

#include <cmath>

#include "data/dataset_encode.hpp"
#include "data/dataset_random.hpp"
#include "data/dataset_records.hpp"
#include "data/dataset_split.hpp"
#include "data/synthetic.hpp"
#include "memtx/error.hpp"

namespace memtx::data {

namespace {

bool instruction_mode(const Config& config) {
  return config.get_string("training.training_mode") == "instruction_finetuning";
}

uint64_t data_seed(const Config& config) { return static_cast<uint64_t>(config.get_int("training.data_seed")); }

std::vector<Record> read_all(const std::vector<std::filesystem::path>& files, const std::vector<std::string>& fields) {
  std::vector<Record> out;
  for (const auto& f : files) {
    auto records = read_records(f, fields);
    for (auto& r : records) out.push_back(std::move(r));
  }
  return out;
}

std::vector<Document> synthetic_split(const Config& config, const Tokenizer& tokenizer, const DatasetSource& src,
                                      Split split) {
  const auto spec = parse_synthetic_name(src.name);
  if (!spec) throw Error(StatusCode::Internal, "synthetic dataset " + src.name + " vanished");
  int64_t count = spec->examples;
  if (split == Split::Eval) {
    if (!src.has_eval) return {};
    const double fraction = config.get_float("training.eval_fraction");
    count = fraction > 0 ? std::max<int64_t>(1, std::llround(fraction * static_cast<double>(spec->examples))) : 0;
  }
  const uint64_t seed = derive_seed(data_seed(config), split == Split::Train ? "train" : "eval");
  return synthetic_documents(tokenizer, *spec, count, seed, config.get_int("training.max_length"),
                             instruction_mode(config));
}

}  // namespace

std::vector<Document> load_documents(const Config& config, const Tokenizer& tokenizer, Split split) {
  const DatasetSource src = resolve_dataset(config);
  if (src.kind == DatasetSource::Kind::Synthetic) return synthetic_split(config, tokenizer, src, split);
  if (split == Split::Eval && !src.has_eval) return {};
  const auto fields = config.get_string_list("training.text_field");
  std::vector<Record> records;
  if (split == Split::Eval && !src.eval_held_out) {
    records = read_all(src.eval_files, fields);
  } else {
    records = read_all(src.train_files, fields);
    if (src.eval_held_out) {
      HeldOut parts = hold_out(std::move(records), config.get_float("training.eval_fraction"));
      records = std::move(split == Split::Train ? parts.train : parts.eval);
    }
  }
  const PieceEncoder encoder(tokenizer);
  const bool instruction = instruction_mode(config);
  std::vector<Document> docs;
  docs.reserve(records.size());
  for (const auto& r : records) docs.push_back(tokenize_record(encoder, r, instruction));
  return docs;
}

PackingOptions packing_options(const Config& config, const Tokenizer& tokenizer, Split split) {
  PackingOptions o;
  o.max_length = config.get_int("training.max_length");
  o.eos_id = tokenizer.eos_id();
  o.pad_id = tokenizer.pad_id().value_or(o.eos_id.value_or(0));
  o.seed = data_seed(config);
  o.shuffle = split == Split::Train;
  return o;
}

std::shared_ptr<const PackedDataset> load_packed_dataset(const Config& config, const Tokenizer& tokenizer,
                                                         Split split) {
  auto docs = load_documents(config, tokenizer, split);
  bool any = false;
  for (const auto& d : docs) any = any || !d.tokens.empty();
  if (!any) {
    if (split == Split::Eval) return nullptr;
    throw Error(StatusCode::InvalidArgument, "dataset '" + config.get_string("training.dataset_name") +
                                                 "' has no training text (" + resolve_dataset(config).describe() +
                                                 ")");
  }
  return std::make_shared<const PackedDataset>(std::move(docs), packing_options(config, tokenizer, split));
}

std::unique_ptr<BatchIterator> make_batch_iterator(const Config& config, const Tokenizer& tokenizer, Split split) {
  auto data = load_packed_dataset(config, tokenizer, split);
  if (!data) return nullptr;
  const std::optional<int64_t> epochs =
      split == Split::Train ? config.get_opt_int("training.num_epochs") : std::optional<int64_t>(1);
  return std::make_unique<BatchIterator>(std::move(data), epochs);
}

}  // namespace memtx::data
