// tests/train/trainer_support.hpp: a tiny byte-tokenizer model trained on a built-in synthetic dataset, and the
// metrics file read back, for the trainer tests.
#pragma once
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.hpp"
#include "train/trainer.hpp"
#include "train_support.hpp"

namespace memtx::test {

// A config for a 2-layer model on synthetic:associative_recall, 32-token windows, eval held out, fp32.
inline Config trainer_config(const std::string& output_dir, const std::vector<std::string>& overrides = {}) {
  std::vector<std::string> all = {"model.vocab_size=259",
                                  "model.max_seq_len=64",
                                  "training.dataset_name=synthetic:associative_recall?pairs=2&examples=48",
                                  "training.training_mode=pretraining",
                                  "training.max_length=32",
                                  "training.batch_size=2",
                                  "training.gradient_accumulation_steps=2",
                                  "training.max_steps=8",
                                  "training.warmup_steps=2",
                                  "training.base_model_lr=0.003",
                                  "training.mixed_precision=no",
                                  "training.gradient_checkpointing=false",
                                  "training.logging_steps=1",
                                  "training.eval_steps=4",
                                  "training.save_steps=4",
                                  "training.eval_fraction=0.25",
                                  "training.num_gpus=0",
                                  "training.output_dir=" + output_dir};
  const std::vector<std::string> helper = all;
  for (const auto& o : overrides) all.push_back(o);
  Config c = tiny_config(all);
  reset_unread_helper_keys(c, helper, overrides);  // e.g. the evaluation keys of a run with eval_split null
  return c;
}

inline std::unique_ptr<data::Tokenizer> byte_tokenizer() { return data::load_tokenizer("byte"); }

// Trains a fresh model built from config; returns the report (throws what train throws).
inline train::TrainReport run_training(const Config& config, const train::TrainHooks& hooks = {},
                                       Transformer* out_model = nullptr) {
  Transformer model(config, plugin_registry());
  auto tokenizer = byte_tokenizer();
  train::TrainReport report;
  train::train(*model, config, *tokenizer, hooks, report);
  if (out_model) *out_model = model;
  return report;
}

// Every record of a metrics file.
inline std::vector<nlohmann::json> read_metrics(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// step -> loss of the "train" records (logging_steps 1: one per step).
inline std::map<int64_t, double> train_losses(const std::string& metrics_path) {
  std::map<int64_t, double> out;
  for (const auto& r : read_metrics(metrics_path))
    if (r["type"] == "train") out[r["step"].get<int64_t>()] = r["loss"].get<double>();
  return out;
}

// Trains two fresh models from the same overrides (under dir/plain and dir/gc), the second with
// training.gradient_checkpointing on, and expects the same loss at every step (1e-6) and the same final
// parameters (1e-5). Returns the number of logged steps.
inline size_t expect_gradient_checkpointing_changes_nothing(const ScratchDir& dir, const std::vector<std::string>& common) {
  Transformer a(nullptr), b(nullptr);
  auto with = common;
  with.push_back("training.gradient_checkpointing=true");
  run_training(trainer_config(dir / "plain", common), {}, &a);
  run_training(trainer_config(dir / "gc", with), {}, &b);
  const auto la = train_losses(dir / "plain/metrics.jsonl");
  const auto lb = train_losses(dir / "gc/metrics.jsonl");
  for (const auto& [step, loss] : la) EXPECT_NEAR(lb.at(step), loss, 1e-6) << "step " << step;
  auto pb = b->named_parameters();
  for (const auto& item : a->named_parameters())
    EXPECT_LE(max_abs_diff(item.value(), pb[item.key()]), 1e-5) << item.key();
  return la.size();
}

}  // namespace memtx::test
