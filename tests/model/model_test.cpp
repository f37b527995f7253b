// Tests of model assembly: per-layer variants, error paths, causality of every registered variant, block
// options (norms, MLPs, tied heads), caching through the whole model.
#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace memtx::test {
namespace {

TEST(Model, AttentionListCyclesOverLayers) {
  Config c = tiny_config({"model.num_layers=5", "attention.attention_list=[causal, infinite]"});
  Transformer model(c, plugin_registry());
  auto j = nlohmann::json::parse(model->describe_json());
  std::vector<std::string> expected = {"causal", "infinite", "causal", "infinite", "causal"};
  ASSERT_EQ(j["layers"].size(), 5u);
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(j["layers"][i]["variant"], expected[i]);
  int64_t total = 0;
  for (const auto& p : model->parameters()) total += p.numel();
  EXPECT_EQ(j["parameters"]["total"].get<int64_t>(), total);
}

TEST(Model, UnknownVariantListsRegisteredNames) {
  Config c = tiny_config({"attention.attention_list=[causal, nonexistent]"});
  try {
    Transformer model(c, plugin_registry());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::NotFound);
    EXPECT_NE(std::string(e.what()).find("unknown attention variant 'nonexistent'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("causal"), std::string::npos) << e.what();
  }
}

TEST(Model, MemoryLayersWithoutMemoryPluginAreAClearError) {
  Registry causal_only;  // no memory plugin loaded
  causal_only.load_file(std::string(MEMTX_BUILD_DIR) + "/plugins/libmemtx_causal.so");
  Config c = tiny_config({"memory.vanilla_mode=false"});
  try {
    Transformer model(c, causal_only);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("memory.vanilla_mode"), std::string::npos) << e.what();
  }
}

TEST(Model, InvalidHeadsRejectedBeforeAllocation) {
  Config c = tiny_config({"attention.n_kv_group=3"});
  EXPECT_THROW(Transformer(c, plugin_registry()), Error);
}

TEST(Model, TokensOutsideVocabularyRejected) {
  Transformer model(tiny_config(), plugin_registry());
  auto tokens = torch::tensor({{1, 2, 97}}, torch::kLong);
  try {
    model->forward(tokens);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("97"), std::string::npos);
  }
}

// Perturbing tokens after position t never changes logits at positions <= t, for every registered
// variant and several option combinations.
TEST(Model, EveryRegisteredVariantIsCausal) {
  std::vector<std::vector<std::string>> option_sets = {
      {},
      {"attention.disable_flash_attention=true"},
      {"attention.n_kv_group=2", "attention.use_qk_norm=true", "attention.use_qk_norm_scale=true"},
      {"attention.use_flash_lobo=true", "attention.use_flash_lobo_per_head=true", "attention.attn_logit_softcapping=2.0"},
      {"model.rope_layout=interleaved", "model.rope_dim=4", "attention.use_concat_heads=false", "attention.n_cproj=2"},
  };
  const auto names = plugin_registry().variant_names();
  ASSERT_FALSE(names.empty());
  for (const auto& variant : names) {
    if (variant == "memory") continue;  // the memory sublayer, not a mixer: tests/model/memory_router_test.cpp
    for (const auto& options : option_sets) {
      // The options this variant reads (one it does not read would be refused as set without effect).
      std::vector<std::string> overrides;
      for (const auto& kv : options) {
        const auto readers = variants_reading(plugin_registry(), kv.substr(0, kv.find('=')));
        if (std::find(readers.begin(), readers.end(), variant) != readers.end()) overrides.push_back(kv);
      }
      overrides.push_back("attention.attention_variant=" + variant);
      Transformer model(tiny_config(overrides), plugin_registry());
      model->eval();
      torch::NoGradGuard guard;
      auto tokens = torch::randint(0, 97, {2, 12}, torch::kLong);
      auto logits = model->forward(tokens);
      for (int64_t t : {0, 5, 10}) {
        auto changed = tokens.clone();
        changed.narrow(1, t + 1, 12 - t - 1).random_(0, 97);
        auto logits2 = model->forward(changed);
        EXPECT_LT(max_abs_diff(logits.narrow(1, 0, t + 1), logits2.narrow(1, 0, t + 1)), 1e-5)
            << variant << " position " << t;
      }
    }
  }
}

TEST(Model, BlockOptionsBuildAndRun) {
  for (const auto& options : std::vector<std::vector<std::string>>{
           {"model.mlp_type=gelu", "model.use_rms_norm=false"},
           {"model.tie_embeddings=false", "model.mlp_bias=true", "model.attention_bias=true"},
           {"model.use_mlp=false"}}) {
    Transformer model(tiny_config(options), plugin_registry());
    auto params = model->named_parameters();
    auto logits = model->forward(torch::randint(0, 97, {1, 5}, torch::kLong));
    EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{1, 5, 97}));
    EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
    if (options[0] == "model.mlp_type=gelu") {
      EXPECT_EQ(params.find("layers.0.mlp.gate_proj.weight"), nullptr);
      EXPECT_NE(params.find("layers.0.attn_norm.bias"), nullptr);
    }
    if (options[0] == "model.tie_embeddings=false") EXPECT_NE(params.find("lm_head.weight"), nullptr);
    if (options[0] == "model.use_mlp=false") EXPECT_EQ(params.find("layers.0.mlp.up_proj.weight"), nullptr);
  }
}

TEST(Model, TiedHeadUsesEmbeddingMatrix) {
  Transformer model(tiny_config(), plugin_registry());
  EXPECT_EQ(model->named_parameters().find("lm_head.weight"), nullptr);
  torch::NoGradGuard guard;
  auto tokens = torch::randint(0, 97, {1, 4}, torch::kLong);
  auto before = model->forward(tokens);
  model->embed_tokens->weight[5].add_(1.0);  // row 5 is also the output row of token 5
  auto after = model->forward(tokens);
  EXPECT_GT(max_abs_diff(before.select(2, 5), after.select(2, 5)), 1e-3);
}

TEST(Model, CachedDecodingThroughTheModelEqualsFullForward) {
  Transformer model(tiny_config({"attention.n_kv_group=2", "model.num_layers=3"}), plugin_registry());
  model->eval();
  torch::NoGradGuard guard;
  auto tokens = torch::randint(0, 97, {2, 10}, torch::kLong);
  auto full = model->forward(tokens);
  auto state = model->initial_state(2);
  auto first = model->forward(tokens.narrow(1, 0, 6), &state, /*use_cache=*/true);
  std::vector<torch::Tensor> pieces{first};
  for (int64_t t = 6; t < 10; ++t) pieces.push_back(model->forward(tokens.narrow(1, t, 1), &state, true));
  EXPECT_EQ(state.position, 10);
  EXPECT_LT(max_abs_diff(torch::cat(pieces, 1), full), 1e-4);
}

TEST(Model, SeedMakesInitialisationReproducible) {
  Transformer a(tiny_config({"model.seed=5"}), plugin_registry());
  Transformer b(tiny_config({"model.seed=5"}), plugin_registry());
  Transformer c(tiny_config({"model.seed=6"}), plugin_registry());
  auto tokens = torch::randint(0, 97, {1, 4}, torch::kLong);
  EXPECT_LT(max_abs_diff(a->forward(tokens), b->forward(tokens)), 1e-7);
  EXPECT_GT(max_abs_diff(a->forward(tokens), c->forward(tokens)), 1e-4);
}

}  // namespace
}  // namespace memtx::test
