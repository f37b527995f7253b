// The seeds' from-scratch configs, configs/base_small.yaml (memory transformer) and configs/vanilla_control.yaml
// (its control without memory), train at tiny sizes: the files as shipped, with dimensions, data and step counts
// overridden, run two optimizer steps, write a checkpoint and a final model, and the memory run trains its bank.
#include "trainer_support.hpp"

namespace memtx::test {
namespace {

train::TrainReport run_seed_config(const std::string& file, const std::string& output_dir, Transformer* out_model) {
  Config config = Config::from_file(plugin_registry().schema(), std::string(MEMTX_SOURCE_DIR) + "/configs/" + file);
  for (const char* kv : {"model.hidden_dim=32", "model.num_heads=4", "model.num_layers=2", "model.intermediate_dim=64",
                         "model.vocab_size=259", "model.max_seq_len=64", "model.device=cpu", "model.dtype=float32",
                         "training.max_length=32", "training.batch_size=2",
                         "training.gradient_accumulation_steps=1", "training.max_steps=2", "training.warmup_steps=1",
                         "training.save_steps=2", "training.num_gpus=0",
                         "training.mixed_precision=no", "training.training_mode=pretraining",
                         "training.dataset_name=synthetic:associative_recall?pairs=2&examples=16",
                         "training.dataset_subset=null"})
    config.apply_override(kv);
  // Only where something reads them (a key without effect is refused): the bank size, the evaluation interval.
  if (memory_layers_enabled(config)) config.apply_override("memory.num_memory_tokens=16");
  if (config.get_opt_string("training.eval_split")) config.apply_override("training.eval_steps=2");
  config.apply_override("training.output_dir=" + output_dir);
  config.validate();
  Transformer model(config, plugin_registry());
  train::TrainReport report;
  train::train(*model, config, *byte_tokenizer(), {}, report);
  *out_model = model;
  return report;
}

TEST(SeedConfigs, BaseSmallAndVanillaControlTrainAtTinySize) {
  if (!plugin_registry().find("memory")) GTEST_SKIP() << "the memory variant is not built";
  ScratchDir dir("seed_configs");
  Transformer memory_model(nullptr), control(nullptr);
  const auto with_memory = run_seed_config("base_small.yaml", dir / "base_small", &memory_model);
  const auto without = run_seed_config("vanilla_control.yaml", dir / "vanilla_control", &control);
  for (const auto* r : {&with_memory, &without}) {
    EXPECT_EQ(r->status, "completed");
    EXPECT_EQ(r->steps, 2);
    EXPECT_TRUE(std::filesystem::exists(r->final_model + "/model.safetensors"));
    EXPECT_TRUE(std::isfinite(r->final_loss));
  }
  int64_t memory_params = 0, control_memory_params = 0;
  for (const auto& p : memory_model->named_parameters())
    if (p.key().find("memory") != std::string::npos) memory_params += p.value().numel();
  for (const auto& p : control->named_parameters())
    if (p.key().find("memory") != std::string::npos) control_memory_params += p.value().numel();
  EXPECT_GT(memory_params, 0);
  EXPECT_EQ(control_memory_params, 0);
}

}  // namespace
}  // namespace memtx::test
