// LoRA (model/lora.hpp): the adapter formula and its dropout, identity at initialisation, merging into the base
// weights (same logits) on every variant, parameter names and groups, unknown targets, gradients (frozen base,
// gradient checkpointing), the inference cache, and MLA's absorbed decoding through an adapted kv_b_proj.
#include <set>

#include "model/lora.hpp"
#include "test_support.hpp"
#include "train/param_groups.hpp"

namespace memtx::test {
namespace {

// LoRA on, no memory layers, no dropout unless asked.
std::vector<std::string> with_lora(std::vector<std::string> overrides, const std::string& targets) {
  for (const char* kv : {"memory.vanilla_mode=false", "memory.use_memory_adapter=false", "memory.use_lora=true",
                         "memory.lora_rank=4", "memory.lora_alpha=8", "memory.lora_dropout=0"})
    overrides.insert(overrides.begin(), kv);
  overrides.push_back("memory.lora_targets=" + targets);
  return overrides;
}

std::vector<std::string> names_of(const torch::nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& p : m.named_parameters()) out.push_back(p.key());
  return out;
}

void randomize_b(TransformerImpl& model, double std) {
  torch::NoGradGuard no_grad;
  for (auto& [path, lora] : lora_modules(model)) lora->lora_B.normal_(0.0, std);
}

double rel_err(const torch::Tensor& a, const torch::Tensor& b) {
  return max_abs_diff(a, b) / std::max(1e-12, b.abs().max().item<double>());
}

TEST(LoraLinear, ComputesTheLowRankUpdateAndDropsInputFeaturesWithOneMaskPerForward) {
  torch::manual_seed(1);
  torch::nn::Linear base(torch::nn::LinearOptions(6, 5).bias(true));
  LoraLinear lora(base, /*rank=*/3, /*scale=*/2.0, /*dropout=*/0.5);
  EXPECT_EQ(lora->lora_A.sizes(), (std::vector<int64_t>{3, 6}));
  EXPECT_EQ(lora->lora_B.sizes(), (std::vector<int64_t>{5, 3}));
  EXPECT_EQ(lora->lora_B.abs().sum().item<double>(), 0.0);                  // B = 0
  EXPECT_LE(lora->lora_A.abs().max().item<double>(), 1.0 / std::sqrt(6.0));  // U(-1/sqrt(in), 1/sqrt(in))
  {
    torch::NoGradGuard g;
    lora->lora_B.normal_(0.0, 1.0);
  }
  auto W = lora->weight.detach(), b = lora->bias.detach();
  auto BA = torch::matmul(lora->lora_B, lora->lora_A).detach();
  // Rows: the 6 unit vectors, twice.
  auto x = torch::cat({torch::eye(6), torch::eye(6)}, 0);
  lora->eval();
  auto y = lora->forward(x).detach();
  auto expected = torch::matmul(x, W.t()) + b + 2.0 * torch::matmul(x, BA.t());
  EXPECT_LT(max_abs_diff(y, expected), 1e-5);

  lora->train();
  int dropped = 0, kept = 0;
  for (int trial = 0; trial < 20; ++trial) {
    auto delta = (lora->forward(x) - (torch::matmul(x, W.t()) + b)).detach();
    for (int64_t j = 0; j < 6; ++j) {
      auto row = delta[j];
      EXPECT_TRUE(torch::equal(row, delta[j + 6])) << "one mask for every token of the forward";
      const bool zero = row.abs().max().item<double>() == 0.0;
      const bool scaled = max_abs_diff(row, 2.0 * 2.0 * BA.select(1, j)) < 1e-5;  // s * (1 / (1 - p)) * BA[:, j]
      EXPECT_TRUE(zero || scaled) << "feature " << j;
      (zero ? dropped : kept)++;
    }
  }
  EXPECT_GT(dropped, 20);
  EXPECT_GT(kept, 20);
}

TEST(Lora, StartsAsTheIdentityBecauseBIsZero) {
  const std::string targets = "[q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]";
  Config plain_cfg = drop_unread_settings(tiny_config(with_lora({"memory.use_lora=false"}, targets)));
  Config lora_cfg = tiny_config(with_lora({"memory.lora_dropout=0.5"}, targets));
  Transformer plain(plain_cfg, plugin_registry()), adapted(lora_cfg, plugin_registry());
  auto tokens = torch::randint(0, 97, {2, 9}, torch::kLong);
  for (bool training : {false, true}) {
    plain->train(training);
    adapted->train(training);
    EXPECT_TRUE(torch::equal(adapted->forward(tokens), plain->forward(tokens))) << "training " << training;
  }
  // The base parameters are those of the plain model, names and values.
  auto base = plain->named_parameters();
  for (const auto& p : adapted->named_parameters()) {
    if (p.key().find("lora_") != std::string::npos) continue;
    ASSERT_NE(base.find(p.key()), nullptr) << p.key();
    EXPECT_TRUE(torch::equal(p.value(), base[p.key()])) << p.key();
  }
  EXPECT_EQ(lora_modules(*adapted).size(), 2u * 7u);
}

TEST(Lora, ParameterNamesShapesAndTheirOptimizerGroup) {
  Config c = tiny_config(with_lora({"training.lora_lr=0.003", "training.base_model_lr=0.0001"}, "[q_proj, v_proj]"));
  Transformer model(c, plugin_registry());
  auto params = model->named_parameters();
  ASSERT_NE(params.find("layers.1.attn.q_proj.lora_A"), nullptr);
  EXPECT_EQ(params["layers.1.attn.q_proj.lora_A"].sizes(), (std::vector<int64_t>{4, 32}));
  EXPECT_EQ(params["layers.1.attn.q_proj.lora_B"].sizes(), (std::vector<int64_t>{32, 4}));
  EXPECT_EQ(params["layers.0.attn.v_proj.lora_B"].sizes(), (std::vector<int64_t>{32, 4}));  // no kv groups: 4 x 8
  EXPECT_NE(params.find("layers.0.attn.q_proj.weight"), nullptr);  // the base keeps its name
  EXPECT_EQ(params.find("layers.0.attn.k_proj.lora_A"), nullptr);
  auto groups = train::build_param_groups(*model, train::param_group_settings(c));
  ASSERT_EQ(groups.front().name, "lora");
  EXPECT_EQ(groups.front().lr, 0.003);
  EXPECT_EQ(groups.front().weight_decay, 0.0);
  EXPECT_EQ(groups.front().names.size(), 2u * 2u * 2u);  // 2 layers x 2 targets x (A, B)
  for (const auto& g : groups)
    if (g.name != "lora") EXPECT_EQ(g.lr, 0.0001) << g.name;
}

TEST(Lora, UnknownTargetFailsListingTheAvailableNames) {
  try {
    Transformer model(tiny_config(with_lora({}, "[q_proj, qkv_proj]")), plugin_registry());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Config);
    const std::string m = e.what();
    EXPECT_NE(m.find("memory.lora_targets"), std::string::npos) << m;
    EXPECT_NE(m.find("'qkv_proj'"), std::string::npos) << m;
    EXPECT_NE(m.find("available: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"), std::string::npos)
        << m;
  }
  if (!plugin_registry().find("ssm")) GTEST_SKIP() << "ssm not built";
  // A target applies to the layers that have it: in_proj is the ssm layer's only.
  Transformer mixed(tiny_config(with_lora({"attention.attention_list=[causal, ssm]"}, "[in_proj]")), plugin_registry());
  auto modules = lora_modules(*mixed);
  ASSERT_EQ(modules.size(), 1u);
  EXPECT_EQ(modules[0].first, "layers.1.attn.in_proj");
  try {
    Transformer ssm(tiny_config(with_lora({"attention.attention_variant=ssm"}, "[q_proj]")), plugin_registry());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("available: in_proj, x_proj, dt_proj, out_proj"), std::string::npos)
        << e.what();
  }
}

// One variant's config (tiny sizes) and whether its plugin is built.
struct VariantCase {
  std::string variant;
  std::vector<std::string> overrides;
};

class LoraMerge : public ::testing::TestWithParam<VariantCase> {};

TEST_P(LoraMerge, MergedWeightsGiveTheLogitsOfBasePlusAdapters) {
  const VariantCase& vc = GetParam();
  if (!plugin_registry().find(vc.variant)) GTEST_SKIP() << vc.variant << " not built";
  std::vector<std::string> overrides = vc.overrides;
  overrides.push_back("attention.attention_variant=" + vc.variant);
  Transformer probe(tiny_config(overrides), plugin_registry());
  std::string targets = "[gate_proj, up_proj, down_proj";
  for (const auto& name : probe->blocks[0]->attn->projection_names()) targets += ", " + name;
  targets += "]";
  Transformer model(tiny_config(with_lora(overrides, targets)), plugin_registry());
  const size_t wrapped = lora_modules(*model).size();
  EXPECT_EQ(wrapped, 2u * (3u + probe->blocks[0]->attn->projection_names().size()));
  model->eval();
  torch::NoGradGuard no_grad;
  torch::manual_seed(2);
  auto tokens = torch::randint(0, 97, {2, 12}, torch::kLong);
  auto base = model->forward(tokens);
  randomize_b(*model, 0.05);
  auto adapted = model->forward(tokens);
  EXPECT_GT(max_abs_diff(adapted, base), 1e-3) << "the adapters change the output";
  // An independent reference: the plain model given W + (alpha / r) B A, formed here in float64.
  auto plain = probe->named_parameters();
  auto params = model->named_parameters();
  for (auto& item : plain) item.value().copy_(params[item.key()]);
  for (auto& [path, lora] : lora_modules(*model)) {
    auto delta = torch::matmul(lora->lora_B.to(torch::kFloat64), lora->lora_A.to(torch::kFloat64)) * (8.0 / 4.0);
    plain[path + ".weight"].copy_(lora->weight.to(torch::kFloat64) + delta);
  }
  probe->eval();
  const double formula_err = rel_err(adapted, probe->forward(tokens));
  EXPECT_LT(formula_err, 1e-5);
  EXPECT_EQ(merge_lora(*model), static_cast<int64_t>(wrapped));
  auto merged = model->forward(tokens);
  const double err = rel_err(merged, adapted);
  std::cout << "[lora merge] " << vc.variant << ": " << wrapped << " projections; relative error: adapters vs float64 "
            << "merge " << formula_err << ", merged vs adapters " << err << "\n";
  EXPECT_LT(err, 1e-5);
  EXPECT_EQ(names_of(*model), names_of(*probe)) << "the plain model's parameter names, in its order";
  EXPECT_FALSE(model->config().get_bool("memory.use_lora"));
  EXPECT_TRUE(lora_modules(*model).empty());
  EXPECT_EQ(merge_lora(*model), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, LoraMerge,
    ::testing::Values(VariantCase{"causal", {"attention.n_kv_group=2"}},
                      VariantCase{"infini", {"attention.n_kv_group=2", "infini_attention.segment_length=4"}},
                      VariantCase{"linear", {}}, VariantCase{"ssm", {}},
                      VariantCase{"mla", {"attention.mla_latent_dim=8", "attention.mla_rotary_dim=4"}},
                      VariantCase{"co4", {"attention.n_latent=2"}}),
    [](const ::testing::TestParamInfo<VariantCase>& info) { return info.param.variant; });

TEST(Lora, FrozenBaseGetsNoGradientAndBGetsOne) {
  Transformer model(tiny_config(with_lora({}, "[q_proj, v_proj]")), plugin_registry());
  for (auto& p : model->named_parameters())
    if (p.key().find("lora_") == std::string::npos) p.value().requires_grad_(false);
  model->train();
  auto tokens = torch::randint(0, 97, {2, 9}, torch::kLong);
  model->forward(tokens).pow(2).mean().backward();
  for (const auto& p : model->named_parameters()) {
    if (p.key().find("lora_B") != std::string::npos) {
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_GT(p.value().grad().abs().max().item<double>(), 0.0) << p.key();
    } else if (p.key().find("lora_A") != std::string::npos) {
      EXPECT_EQ(p.value().grad().abs().max().item<double>(), 0.0) << "dL/dA = s B^T (...) = 0 while B = 0";
    } else {
      EXPECT_FALSE(p.value().grad().defined()) << p.key();
    }
  }
}

TEST(Lora, GradientCheckpointingGivesTheSameGradients) {
  Transformer model(tiny_config(with_lora({}, "[q_proj, v_proj, down_proj]")), plugin_registry());
  randomize_b(*model, 0.05);
  model->train();
  auto tokens = torch::randint(0, 97, {2, 9}, torch::kLong);
  auto grads = [&](bool checkpointing) {
    model->set_gradient_checkpointing(checkpointing);
    model->zero_grad();
    model->forward(tokens).pow(2).mean().backward();
    std::vector<torch::Tensor> out;
    for (const auto& p : model->named_parameters())
      if (p.key().find("lora_") != std::string::npos) out.push_back(p.value().grad().clone());
    return out;
  };
  auto plain = grads(false), recomputed = grads(true);
  ASSERT_EQ(plain.size(), recomputed.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_GT(plain[i].abs().max().item<double>(), 0.0);
    EXPECT_LT(rel_err(recomputed[i], plain[i]), 1e-5) << i;
  }
}

TEST(Lora, CachedInferenceWeightFollowsInPlaceUpdates) {
  Transformer model(tiny_config(with_lora({}, "[q_proj, o_proj]")), plugin_registry());
  model->eval();
  auto tokens = torch::randint(0, 97, {1, 7}, torch::kLong);
  torch::Tensor first, second;
  {
    torch::NoGradGuard g;
    first = model->forward(tokens);
    EXPECT_TRUE(torch::equal(model->forward(tokens), first));
    randomize_b(*model, 0.05);  // in place: the cached effective weights are stale now
    second = model->forward(tokens);
  }
  EXPECT_GT(max_abs_diff(second, first), 1e-3);
  auto with_graph = model->forward(tokens);  // gradient mode: always recomputed
  EXPECT_LT(max_abs_diff(with_graph.detach(), second), 1e-6);
}

TEST(Lora, MlaAbsorbedDecodingUsesTheAdaptedWeights) {
  if (!plugin_registry().find("mla")) GTEST_SKIP() << "mla not built";
  Transformer model(tiny_config(with_lora({"attention.attention_variant=mla", "attention.mla_latent_dim=8",
                                           "attention.mla_rotary_dim=4"},
                                          "[kv_b_proj, q_proj]")),
                    plugin_registry());
  randomize_b(*model, 0.05);
  model->eval();
  torch::NoGradGuard g;
  auto tokens = torch::randint(0, 97, {2, 10}, torch::kLong);
  auto whole = model->forward(tokens);
  ModelState state = model->initial_state(2);
  std::vector<torch::Tensor> outs{model->forward(tokens.narrow(1, 0, 4), &state, /*use_cache=*/true)};
  for (int64_t t = 4; t < 10; ++t) outs.push_back(model->forward(tokens.narrow(1, t, 1), &state, true));
  EXPECT_LT(rel_err(torch::cat(outs, 1), whole), 1e-4);
}

}  // namespace
}  // namespace memtx::test
