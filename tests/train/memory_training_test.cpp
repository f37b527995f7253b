// Training models with memory sublayers: the router losses enter the objective (with Wo = 0 the language-model
// loss gives the router exactly no gradient, so the router moves in the first step only through them) and are
// logged as "router" records; memory parameters train in the memory groups with training.memory_lr; a shared
// bank is one tensor in the optimizer and in the saved weights.
#include "model/model_weights.hpp"
#include "trainer_support.hpp"

namespace memtx::test {
namespace {

std::vector<std::string> memory_training(std::vector<std::string> extra) {
  std::vector<std::string> o = {"memory.vanilla_mode=false",        "memory.num_memory_tokens=16",
                                "memory.use_chapters=true",         "memory.num_chapters=4",
                                "memory.top_k_chapters=2",          "memory.routing_strategy_train=token",
                                "memory.routing_strategy_inference=token",
                                "training.weight_decay=0",          "training.warmup_steps=0",
                                "training.memory_lr=0.01",          "training.eval_split=null",
                                "training.max_steps=1"};
  o.insert(o.end(), extra.begin(), extra.end());
  return o;
}

torch::Tensor router_weight(Transformer& model, int64_t layer) {
  return model->named_parameters()["layers." + std::to_string(layer) + ".memory.cross_attn.router.weight"].detach().clone();
}

TEST(MemoryTraining, RouterLossesEnterTheObjective) {
  ScratchDir dir("memory_router");
  for (const std::string loss : {"none", "z_loss", "load_balance"}) {
    auto config = trainer_config(dir / loss, memory_training({"memory.use_load_balance_loss=" +
                                                                  std::string(loss == "load_balance" ? "true" : "false"),
                                                              "memory.use_z_loss=" + std::string(loss == "z_loss" ? "true" : "false")}));
    Transformer before(config, plugin_registry());  // the same seed: the trained model's initial weights
    Transformer after(nullptr);
    const auto report = run_training(config, {}, &after);
    ASSERT_EQ(report.status, "completed") << loss;
    for (int64_t layer : {0, 1}) {
      const double moved = max_abs_diff(router_weight(after, layer), router_weight(before, layer));
      if (loss == "none") EXPECT_EQ(moved, 0.0) << "layer " << layer << ": no router loss, Wo = 0";
      else EXPECT_GT(moved, 1e-3) << loss << " layer " << layer;
    }
    // The memory layers did train (Wo gets the language-model gradient).
    auto wo = after->named_parameters()["layers.0.memory.cross_attn.o_proj.weight"];
    EXPECT_GT(wo.abs().max().item<double>(), 0.0) << loss;
  }
}

TEST(MemoryTraining, RouterLossesAreLoggedAtLoggingSteps) {
  ScratchDir dir("memory_log");
  auto config = trainer_config(dir.path(), memory_training({"training.max_steps=4", "training.logging_steps=2",
                                                            "memory.use_z_loss=true"}));
  const auto report = run_training(config);
  ASSERT_EQ(report.status, "completed");
  std::vector<int64_t> steps;
  for (const auto& r : read_metrics(report.metrics_file)) {
    if (r["type"] != "router") continue;
    steps.push_back(r["step"].get<int64_t>());
    for (int layer : {0, 1})
      for (const char* name : {"load_balance", "auxiliary", "z_loss"}) {
        const std::string key = "layers." + std::to_string(layer) + ".memory." + name;
        ASSERT_TRUE(r["values"].contains(key)) << r.dump();
        const double v = r["values"][key].get<double>();
        EXPECT_TRUE(std::isfinite(v)) << key;
        EXPECT_GE(v, 0.0) << key;
      }
    // Two of four chapters per token: C sum f P <= 4 * 1/2 (f_i <= 1/k); the router starts near uniform
    // (weights N(0, 0.02)), where the loss is 1.
    EXPECT_LE(r["values"]["layers.0.memory.load_balance"].get<double>(), 2.0 + 1e-9);
    EXPECT_NEAR(r["values"]["layers.0.memory.load_balance"].get<double>(), 1.0, 0.2);
  }
  EXPECT_EQ(steps, (std::vector<int64_t>{2, 4}));
}

TEST(MemoryTraining, MemoryParametersUseTheMemoryGroupsAndSharedBanksAppearOnce) {
  auto config = tiny_config({"memory.vanilla_mode=false", "memory.num_memory_tokens=16", "model.num_layers=3",
                             "memory.memory_sharing=shared", "memory.memory_block_variant=B"});
  Transformer model(config, plugin_registry());
  const auto groups = train::build_param_groups(*model, train::param_group_settings(config));
  std::map<std::string, std::string> group_of;
  for (const auto& g : groups)
    for (const auto& n : g.names) group_of[n] = g.name;
  EXPECT_EQ(group_of.at("memory_banks.0.memory"), "memory");
  EXPECT_EQ(group_of.at("layers.2.memory.cross_attn.q_proj.weight"), "memory");
  EXPECT_EQ(group_of.at("layers.1.memory.mlp.up_proj.weight"), "memory");
  EXPECT_EQ(group_of.at("layers.0.memory.norm.weight"), "memory_no_decay");
  EXPECT_EQ(group_of.at("layers.0.attn.q_proj.weight"), "base");
  for (const auto& g : groups)
    if (g.name == "memory") EXPECT_DOUBLE_EQ(g.lr, config.get_float("training.memory_lr"));
  int64_t bank_entries = 0;
  for (const auto& [name, tensor] : model_tensors_for_save(*model, torch::kFloat))
    if (name.find("bank") != std::string::npos) ++bank_entries;
  EXPECT_EQ(bank_entries, 1);
}

TEST(MemoryTraining, GradientCheckpointingTrainsMemoryModelsTheSame) {
  ScratchDir dir("memory_gc");
  // No router loss: the memory blocks are recomputed (dropout included) in the backward pass.
  const std::vector<std::string> common = memory_training({"training.max_steps=3", "memory.use_load_balance_loss=false",
                                                           "memory.memory_block_variant=B", "model.dropout=0.1"});
  EXPECT_EQ(expect_gradient_checkpointing_changes_nothing(dir, common), 3u);
}

}  // namespace
}  // namespace memtx::test
