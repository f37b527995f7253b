// Adapter mode (model/adapter.hpp): a model whose base is a Hugging Face folder (qwen2-tiny, llama-tiny; a
// sharded copy) reproduces the base model's logits exactly while its additions are zero-initialised, keeps the
// base frozen, takes its architecture and tokenizer from the folder, and exports a standalone merged model.
#include <filesystem>

#include "hf_folder_support.hpp"
#include "io/safetensors.hpp"
#include "model/adapter.hpp"
#include "model/lora.hpp"

namespace fs = std::filesystem;

namespace memtx::test {
namespace {

std::string fixture(const std::string& name) { return std::string(MEMTX_FIXTURES_DIR) + "/hf/" + name; }

// The user's config restates another architecture on purpose (Qwen2.5-1.5B's): the folder's config.json wins.
Config adapter_config(const std::string& base, const std::vector<std::string>& overrides = {}) {
  Config c(plugin_registry().schema());
  for (const std::string& kv : std::vector<std::string>{
           "model.base_model_name=" + base, "model.hidden_dim=1536", "model.num_heads=12", "model.num_layers=28",
           "model.intermediate_dim=8960", "model.vocab_size=151936", "attention.n_kv_group=2", "model.device=cpu",
           "memory.use_memory_adapter=false", "memory.use_lora=true",
           "memory.lora_targets=[q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]"})
    c.apply_override(kv);
  for (const auto& kv : overrides) c.apply_override(kv);
  return c;
}

// The fixture's weights split over two shards with a model.safetensors.index.json (drop: a tensor left out).
void write_sharded_copy(const std::string& from, const HfFolder& to, const std::string& drop = "") {
  to.copy_from(from, "config.json");
  auto file = io::read_safetensors((fs::path(from) / "model.safetensors").string());
  std::vector<std::pair<std::string, torch::Tensor>> shards[2];
  nlohmann::json map = nlohmann::json::object();
  for (size_t i = 0; i < file.tensors.size(); ++i) {
    if (file.tensors[i].first == drop) continue;
    const int s = i % 2;
    shards[s].push_back(file.tensors[i]);
    map[file.tensors[i].first] = "model-0000" + std::to_string(s + 1) + "-of-00002.safetensors";
  }
  for (int s = 0; s < 2; ++s)
    io::write_safetensors(to.path("model-0000" + std::to_string(s + 1) + "-of-00002.safetensors"), shards[s]);
  to.write_json("model.safetensors.index.json",
                nlohmann::json{{"metadata", nlohmann::json::object()}, {"weight_map", map}}, /*indent=*/1);
}

class AdapterIdentity : public ::testing::TestWithParam<std::string> {};

TEST_P(AdapterIdentity, ZeroInitialisedLoraReproducesTheBaseLogitsExactly) {
  const std::string dir = fixture(GetParam());
  if (!fs::exists(dir)) GTEST_SKIP() << "fixtures not found at " << dir;
  Transformer base = load_hf_model(dir, plugin_registry());
  Transformer adapted(adapter_config(dir), plugin_registry());
  adapted->eval();
  EXPECT_EQ(adapted->spec().hidden_dim, base->spec().hidden_dim);  // from config.json, not the restated 1536
  EXPECT_EQ(adapted->spec().num_layers, base->spec().num_layers);
  EXPECT_EQ(adapted->config().get_int("model.vocab_size"), base->spec().vocab_size);
  EXPECT_EQ(lora_modules(*adapted).size(), 7u * static_cast<size_t>(base->spec().num_layers));
  for (const auto& p : adapted->named_parameters())
    EXPECT_EQ(p.value().requires_grad(), p.key().find("lora_") != std::string::npos) << p.key();

  auto io = io::read_safetensors((fs::path(dir) / "io.safetensors").string());
  const torch::Tensor ids = io.find("input_ids")->to(torch::kLong);
  torch::NoGradGuard no_grad;
  auto expected = base->forward(ids);
  auto logits = adapted->forward(ids);
  EXPECT_TRUE(torch::equal(logits, expected)) << "max abs diff " << max_abs_diff(logits, expected);
  EXPECT_LT(max_abs_diff(logits, *io.find("logits")), 2e-4) << "transformers' logits";

  // The adapters are live on the imported base, and merging them keeps the logits.
  for (auto& [path, lora] : lora_modules(*adapted)) lora->lora_B.normal_(0.0, 0.05);
  auto changed = adapted->forward(ids);
  EXPECT_GT(max_abs_diff(changed, expected), 1e-3);
  merge_lora(*adapted);
  EXPECT_LT(max_abs_diff(adapted->forward(ids), changed), 1e-5 * changed.abs().max().item<double>());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, AdapterIdentity, ::testing::Values("qwen2-tiny", "llama-tiny"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param == "qwen2-tiny" ? std::string("qwen2") : std::string("llama");
                         });

TEST(AdapterMode, ShardedIndexGivesTheSameModelAndMissingTensorsAreNamed) {
  const std::string dir = fixture("qwen2-tiny");
  if (!fs::exists(dir)) GTEST_SKIP() << "fixtures not found at " << dir;
  HfFolder sharded("sharded"), broken("broken");
  write_sharded_copy(dir, sharded);
  Transformer whole(adapter_config(dir), plugin_registry());
  Transformer from_shards(adapter_config(sharded.dir()), plugin_registry());
  auto a = whole->named_parameters();
  for (const auto& p : from_shards->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), a[p.key()])) << p.key();

  write_sharded_copy(dir, broken, "model.layers.1.mlp.up_proj.weight");
  try {
    Transformer model(adapter_config(broken.dir()), plugin_registry());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Io);
    EXPECT_NE(std::string(e.what()).find("layers.1.mlp.up_proj.weight"), std::string::npos) << e.what();
  }
}

TEST(AdapterMode, MissingFolderIsANamedError) {
  try {
    Transformer model(adapter_config("/nonexistent/Qwen2.5-1.5B"), plugin_registry());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::NotFound);
    const std::string m = e.what();
    EXPECT_NE(m.find("model.base_model_name: '/nonexistent/Qwen2.5-1.5B'"), std::string::npos) << m;
    EXPECT_NE(m.find("--local-dir"), std::string::npos) << m;
  }
}

TEST(AdapterMode, ResolvedConfigTakesTheFoldersArchitectureAndTokenizer) {
  const std::string dir = fixture("qwen2-tiny");
  if (!fs::exists(dir)) GTEST_SKIP() << "fixtures not found at " << dir;
  Config resolved = resolve_base_model_config(adapter_config(dir, {"model.dtype=bfloat16", "memory.lora_rank=8"}));
  EXPECT_EQ(resolved.get_int("model.hidden_dim"), 64);
  EXPECT_EQ(resolved.get_int("model.num_layers"), 2);
  EXPECT_EQ(resolved.get_int("attention.n_kv_group"), 2);
  EXPECT_TRUE(resolved.get_bool("model.attention_bias"));
  EXPECT_EQ(resolved.get_string("model.dtype"), "bfloat16");  // the user's own keys stay
  EXPECT_EQ(resolved.get_string("model.device"), "cpu");
  EXPECT_EQ(resolved.get_int("memory.lora_rank"), 8);
  EXPECT_EQ(resolved.get_string("model.tokenizer"), "byte");  // the fixture has no tokenizer file
  EXPECT_EQ(resolved.get_string("model.base_model_name"), fs::absolute(dir).lexically_normal().string());

  HfFolder with_tokenizer("tokenizer");
  with_tokenizer.copy_from(dir, "config.json");
  with_tokenizer.write("tokenizer.json", "{}");
  EXPECT_EQ(resolve_base_model_config(adapter_config(with_tokenizer.dir())).get_string("model.tokenizer"),
            with_tokenizer.dir());
  EXPECT_EQ(resolve_base_model_config(adapter_config(with_tokenizer.dir(), {"model.tokenizer=byte"}))
                .get_string("model.tokenizer"),
            "byte");
}

TEST(AdapterMode, UnfrozenBaseStaysTrainable) {
  const std::string dir = fixture("qwen2-tiny");
  if (!fs::exists(dir)) GTEST_SKIP() << "fixtures not found at " << dir;
  Transformer model(adapter_config(dir, {"model.freeze_base_model=false"}), plugin_registry());
  for (const auto& p : model->named_parameters()) EXPECT_TRUE(p.value().requires_grad()) << p.key();
  EXPECT_EQ(base_parameter_names(*model).size(), load_hf_model(dir, plugin_registry())->named_parameters().size());
}

TEST(AdapterMode, MemoryAndLoraTogetherStartAsTheBaseModel) {
  const std::string dir = fixture("qwen2-tiny");
  if (!fs::exists(dir)) GTEST_SKIP() << "fixtures not found at " << dir;
  if (!plugin_registry().find("memory")) GTEST_SKIP() << "the memory variant is not built";
  Transformer base = load_hf_model(dir, plugin_registry());
  Transformer adapted(adapter_config(dir, {"memory.use_memory_adapter=true", "memory.use_both_memory_and_lora=true",
                                           "memory.memory_layer_placement=all", "memory.wo_init_zero=true",
                                           "memory.num_memory_tokens=8"}),
                      plugin_registry());
  adapted->eval();
  const auto base_names = base_parameter_names(*adapted);
  EXPECT_LT(base_names.size(), adapted->named_parameters().size()) << "memory and LoRA parameters were added";
  for (const auto& p : adapted->named_parameters()) {
    const bool is_base = std::find(base_names.begin(), base_names.end(), p.key()) != base_names.end();
    EXPECT_EQ(p.value().requires_grad(), !is_base) << p.key();
  }
  auto io = io::read_safetensors((fs::path(dir) / "io.safetensors").string());
  const torch::Tensor ids = io.find("input_ids")->to(torch::kLong);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(adapted->forward(ids), base->forward(ids)));
}

TEST(AdapterMode, MergedModelIsStandalone) {
  const std::string dir = fixture("qwen2-tiny");
  if (!fs::exists(dir)) GTEST_SKIP() << "fixtures not found at " << dir;
  Transformer adapted(adapter_config(dir), plugin_registry());
  adapted->eval();
  torch::NoGradGuard no_grad;
  for (auto& [path, lora] : lora_modules(*adapted)) lora->lora_B.normal_(0.0, 0.05);
  auto tokens = torch::randint(0, 512, {2, 11}, torch::kLong);
  auto logits = adapted->forward(tokens);
  EXPECT_EQ(merge_lora(*adapted), 14);
  const Config& merged = adapted->config();
  EXPECT_FALSE(merged.get_opt_string("model.base_model_name").has_value());
  EXPECT_FALSE(merged.get_bool("memory.use_lora"));
  // Rebuilt from its config alone (no folder), given the merged weights: the same logits.
  Transformer rebuilt(Config::from_string(plugin_registry().schema(), merged.to_yaml()), plugin_registry());
  rebuilt->eval();
  auto source = adapted->named_parameters();
  for (auto& p : rebuilt->named_parameters()) p.value().copy_(source[p.key()]);
  EXPECT_LT(max_abs_diff(rebuilt->forward(tokens), logits), 1e-5 * logits.abs().max().item<double>());
}

}  // namespace
}  // namespace memtx::test
