// Parameter groups: which group each parameter lands in, each group's lr / weight decay, frozen and shared
// parameters, the config keys read, and the real model's norms, biases and plugin scalars.
#include <algorithm>

#include "train/param_groups.hpp"
#include "train_support.hpp"

namespace memtx::test {
namespace {

using train::ParamGroup;

const ParamGroup* group(const std::vector<ParamGroup>& groups, const std::string& name) {
  for (const auto& g : groups)
    if (g.name == name) return &g;
  return nullptr;
}

std::string group_of(const std::vector<ParamGroup>& groups, const std::string& param) {
  for (const auto& g : groups)
    if (std::find(g.names.begin(), g.names.end(), param) != g.names.end()) return g.name;
  return "";
}

// A stand-in attention layer that asks, as infini and ssm do, for its "balance" to be the group "infini_gates"
// at 1e-3 and for its 2-d "A_log" to have no weight decay.
struct FakeLayer : AttentionModuleImpl {
  torch::Tensor forward(const torch::Tensor& x, AttentionContext&) override { return x; }
  std::vector<ParameterGroupRequest> parameter_groups() const override { return {{"infini_gates", {"balance"}, 1e-3}}; }
  std::vector<std::string> no_decay_parameters() const override { return {"A_log"}; }
};

// layers.0.{memory.{wq, gain}, attn (FakeLayer).{q_proj.lora_A, balance, weight (frozen), A_log, proj, shared}},
// memory_bank, head.shared (the same tensor as layers.0.attn.shared).
std::shared_ptr<torch::nn::Module> fake_model() {
  auto root = std::make_shared<torch::nn::Module>();
  root->register_parameter("memory_bank", torch::randn({8, 4}));
  auto layers = root->register_module("layers", std::make_shared<torch::nn::Module>());
  auto l0 = layers->register_module("0", std::make_shared<torch::nn::Module>());
  auto memory = l0->register_module("memory", std::make_shared<torch::nn::Module>());
  memory->register_parameter("wq", torch::randn({4, 4}));
  memory->register_parameter("gain", torch::ones({4}));
  auto attn = l0->register_module("attn", std::make_shared<FakeLayer>());
  auto q_proj = attn->register_module("q_proj", std::make_shared<torch::nn::Module>());
  q_proj->register_parameter("lora_A", torch::randn({2, 4}));
  attn->register_parameter("balance", torch::zeros({4}));
  attn->register_parameter("weight", torch::randn({4, 4}), /*requires_grad=*/false);
  attn->register_parameter("A_log", torch::randn({4, 16}));
  attn->register_parameter("proj", torch::randn({4, 4}));
  auto shared = attn->register_parameter("shared", torch::randn({4, 4}));
  auto head = root->register_module("head", std::make_shared<torch::nn::Module>());
  head->register_parameter("shared", shared);
  return root;
}

TEST(ParamGroups, SettingsComeFromTheConfig) {
  Config c = tiny_config({"training.base_model_lr=3e-4", "training.weight_decay=0.1", "training.memory_lr=2e-3",
                          "training.lora_lr=5e-4"});
  auto s = train::param_group_settings(c);
  EXPECT_DOUBLE_EQ(s.base_lr, 3e-4);
  EXPECT_DOUBLE_EQ(s.weight_decay, 0.1);
  EXPECT_DOUBLE_EQ(s.memory_lr, 2e-3);
  EXPECT_DOUBLE_EQ(s.lora_lr, 5e-4);
  EXPECT_TRUE(s.no_decay_names.empty());  // the layers name their own (RealModel..., SsmALogAndD... below)
}

TEST(ParamGroups, EveryRuleAndItsLrAndDecay) {
  train::ParamGroupSettings s;
  s.base_lr = 1e-5;
  s.weight_decay = 0.01;
  s.memory_lr = 1e-4;
  s.lora_lr = 2e-4;
  auto model = fake_model();
  auto groups = train::build_param_groups(*model, s);

  EXPECT_EQ(group_of(groups, "memory_bank"), "memory");
  EXPECT_EQ(group_of(groups, "layers.0.memory.wq"), "memory");
  EXPECT_EQ(group_of(groups, "layers.0.memory.gain"), "memory_no_decay");
  EXPECT_EQ(group_of(groups, "layers.0.attn.q_proj.lora_A"), "lora");
  EXPECT_EQ(group_of(groups, "layers.0.attn.balance"), "infini_gates");
  EXPECT_EQ(group_of(groups, "layers.0.attn.weight"), "") << "frozen parameters are left out";
  EXPECT_EQ(group_of(groups, "layers.0.attn.A_log"), "no_decay") << "A_log is 2-D but listed";
  EXPECT_EQ(group_of(groups, "layers.0.attn.proj"), "base");
  EXPECT_EQ(group_of(groups, "layers.0.attn.shared"), "base");
  EXPECT_EQ(group_of(groups, "head.shared"), "") << "a shared tensor appears once, under its first name";

  std::vector<std::string> order;
  for (const auto& g : groups) order.push_back(g.name);
  EXPECT_EQ(order, (std::vector<std::string>{"lora", "infini_gates", "memory", "memory_no_decay", "no_decay", "base"}));

  struct Expect { const char* name; double lr; double wd; size_t count; };
  for (const Expect& e : {Expect{"lora", 2e-4, 0.0, 1}, Expect{"infini_gates", 1e-3, 0.0, 1},
                          Expect{"memory", 1e-4, 0.01, 2}, Expect{"memory_no_decay", 1e-4, 0.0, 1},
                          Expect{"no_decay", 1e-5, 0.0, 1}, Expect{"base", 1e-5, 0.01, 2}}) {
    const ParamGroup* g = group(groups, e.name);
    ASSERT_NE(g, nullptr) << e.name;
    EXPECT_DOUBLE_EQ(g->lr, e.lr) << e.name;
    EXPECT_DOUBLE_EQ(g->weight_decay, e.wd) << e.name;
    EXPECT_EQ(g->names.size(), e.count) << e.name;
    ASSERT_EQ(g->params.size(), g->names.size()) << e.name;
  }
  // The tensors are the model's own.
  const ParamGroup* lora = group(groups, "lora");
  EXPECT_TRUE(lora->params[0].is_same(model->named_parameters()["layers.0.attn.q_proj.lora_A"]));
  EXPECT_EQ(train::grouped_parameters(groups).size(), 8u);  // 10 names - frozen - shared duplicate
}

TEST(ParamGroups, ExtraNoDecayNamesAndEmptyGroupsOmitted) {
  auto root = std::make_shared<torch::nn::Module>();
  root->register_parameter("w", torch::randn({3, 3}));
  root->register_parameter("gate_matrix", torch::randn({3, 3}));
  train::ParamGroupSettings s;
  s.no_decay_names.push_back("gate_matrix");
  auto groups = train::build_param_groups(*root, s);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(group_of(groups, "gate_matrix"), "no_decay");
  EXPECT_EQ(group_of(groups, "w"), "base");
}

TEST(ParamGroups, AllFrozenIsAnError) {
  auto root = std::make_shared<torch::nn::Module>();
  root->register_parameter("w", torch::randn({3, 3}), /*requires_grad=*/false);
  try {
    train::build_param_groups(*root, train::ParamGroupSettings{});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("trainable"), std::string::npos) << e.what();
  }
}

TEST(ParamGroups, RealModelNormsBiasesAndPluginScalars) {
  auto model = tiny_model({"attention.use_qk_norm=true", "attention.use_qk_norm_scale=true",
                           "attention.use_flash_lobo=true", "model.attention_bias=true"});
  auto groups = train::build_param_groups(*model, train::param_group_settings(model->config()));
  for (const char* name : {"layers.0.attn_norm.weight", "layers.1.mlp_norm.weight", "norm.weight",
                           "layers.0.attn.q_proj.bias", "layers.0.attn.qk_scale", "layers.1.attn.lobo_log_c"})
    EXPECT_EQ(group_of(groups, name), "no_decay") << name;
  for (const char* name : {"embed_tokens.weight", "layers.0.attn.q_proj.weight", "layers.1.mlp.down_proj.weight"})
    EXPECT_EQ(group_of(groups, name), "base") << name;
  // Every trainable parameter is in exactly one group.
  size_t trainable = 0;
  for (const auto& p : model->parameters()) trainable += p.requires_grad() ? 1 : 0;
  EXPECT_EQ(train::grouped_parameters(groups).size(), trainable);
}

TEST(ParamGroups, SsmALogAndDAreNoDecay) {
  if (!plugin_registry().find("ssm")) GTEST_SKIP() << "ssm plugin not built";
  auto model = tiny_model({"attention.attention_variant=ssm"});
  auto groups = train::build_param_groups(*model, train::ParamGroupSettings{});
  const auto params = model->named_parameters();
  ASSERT_NE(params.find("layers.0.attn.A_log"), nullptr);
  EXPECT_EQ(params["layers.0.attn.A_log"].dim(), 2);
  EXPECT_EQ(group_of(groups, "layers.0.attn.A_log"), "no_decay");
  EXPECT_EQ(group_of(groups, "layers.0.attn.D"), "no_decay");
}

}  // namespace
}  // namespace memtx::test
