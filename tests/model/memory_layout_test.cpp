// Placement and sharing of memory sublayers: the layer map of every placement x sharing combination (a pure
// function, model/memory_layout.hpp), the models built from them (memory in exactly those blocks, one bank
// object per group registered once as memory_banks.<j>), block variants A and B (the order of the sublayers,
// checked by recomputing a block by hand), vanilla_mode / use_memory_adapter, and the seed configs
// base_small.yaml and vanilla_control.yaml at tiny sizes.
#include <nlohmann/json.hpp>

#include "memory_support.hpp"
#include "model/memory_layout.hpp"

namespace memtx::test {
namespace {

using memory::memory_config;

struct Case {
  std::string placement, sharing;
  std::vector<int64_t> map;  // expected bank per block, -1 = none (6 blocks)
  int64_t banks;
};

// L = 6 blocks; first_k k = 2, last_k k = 3, every_n n = 2, custom {1, 4, 5}, every_k_layers k = 2.
const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"all", "shared", {0, 0, 0, 0, 0, 0}, 1},
      {"all", "per_layer", {0, 1, 2, 3, 4, 5}, 6},
      {"all", "every_k_layers", {0, 0, 1, 1, 2, 2}, 3},
      {"first_k", "shared", {0, 0, -1, -1, -1, -1}, 1},
      {"first_k", "per_layer", {0, 1, -1, -1, -1, -1}, 2},
      {"first_k", "every_k_layers", {0, 0, -1, -1, -1, -1}, 1},
      {"last_k", "shared", {-1, -1, -1, 0, 0, 0}, 1},
      {"last_k", "per_layer", {-1, -1, -1, 0, 1, 2}, 3},
      {"last_k", "every_k_layers", {-1, -1, -1, 0, 0, 1}, 2},
      {"every_n", "shared", {0, -1, 0, -1, 0, -1}, 1},
      {"every_n", "per_layer", {0, -1, 1, -1, 2, -1}, 3},
      {"every_n", "every_k_layers", {0, -1, 0, -1, 1, -1}, 2},
      {"custom", "shared", {-1, 0, -1, -1, 0, 0}, 1},
      {"custom", "per_layer", {-1, 0, -1, -1, 1, 2}, 3},
      {"custom", "every_k_layers", {-1, 0, -1, -1, 0, 1}, 2},
      {"none", "shared", {-1, -1, -1, -1, -1, -1}, 0},
      {"none", "per_layer", {-1, -1, -1, -1, -1, -1}, 0},
      {"none", "every_k_layers", {-1, -1, -1, -1, -1, -1}, 0},
  };
  return c;
}

MemoryLayoutOptions options_for(const Case& c) {
  MemoryLayoutOptions o;
  o.num_layers = 6;
  o.placement = c.placement;
  o.k = c.placement == "first_k" ? 2 : 3;
  o.n = 2;
  if (c.placement == "custom") o.indices = {1, 4, 5};
  o.sharing = c.sharing;
  o.sharing_k = 2;
  return o;
}

std::vector<std::string> overrides_for(const Case& c, const std::string& variant) {
  std::vector<std::string> o = {"model.num_layers=6", "memory.memory_layer_placement=" + c.placement,
                                "memory.memory_layer_k=" + std::string(c.placement == "first_k" ? "2" : "3"),
                                "memory.memory_layer_n=2", "memory.memory_sharing=" + c.sharing,
                                "memory.memory_sharing_k=2", "memory.memory_block_variant=" + variant};
  if (c.placement == "custom") o.push_back("memory.memory_layer_indices=[1, 4, 5]");
  return o;
}

TEST(MemoryLayout, EveryPlacementAndSharingGivesItsMap) {
  for (const auto& c : cases()) {
    const MemoryLayout layout = memory_layout(options_for(c));
    EXPECT_EQ(layout.bank_of_layer, c.map) << c.placement << " / " << c.sharing;
    EXPECT_EQ(layout.num_banks, c.banks) << c.placement << " / " << c.sharing;
  }
}

TEST(MemoryLayout, DisabledMemoryAndBadOptionsAreHandled) {
  MemoryLayoutOptions o = options_for(cases()[0]);
  o.enabled = false;  // vanilla_mode, or use_memory_adapter false
  EXPECT_EQ(memory_layout(o).bank_of_layer, std::vector<int64_t>(6, -1));
  EXPECT_EQ(memory_layout(o).num_banks, 0);

  auto expect_error = [](MemoryLayoutOptions bad, const std::string& needle) {
    try {
      memory_layout(bad);
      ADD_FAILURE() << "expected an error naming " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::Config);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  MemoryLayoutOptions bad = options_for(cases()[3]);  // first_k
  bad.k = 7;
  expect_error(bad, "memory.memory_layer_k");
  bad = options_for(cases()[12]);  // custom
  bad.indices = {1, 6};
  expect_error(bad, "block 6");
  bad.indices = {2, 2};
  expect_error(bad, "twice");
  bad = options_for(cases()[0]);
  bad.placement = "middle";
  expect_error(bad, "memory.memory_layer_placement");
  bad = options_for(cases()[0]);
  bad.sharing = "pairs";
  expect_error(bad, "memory.memory_sharing");
}

TEST(MemoryLayout, ConfigKeysReachTheLayout) {
  const Case& c = cases()[14];  // custom, every_k_layers
  Config config = memory_config(overrides_for(c, "A"));
  EXPECT_EQ(memory_layout(MemoryLayoutOptions::from_config(config)).bank_of_layer, c.map);
  config.set("memory.use_memory_adapter", false);
  EXPECT_EQ(memory_layout(MemoryLayoutOptions::from_config(config)).num_banks, 0);
}

// The model of every combination and both block variants: memory exactly where the map says, the blocks of a
// group reading one bank object, each bank registered once.
TEST(MemoryLayout, ModelsFollowTheMapAndShareBankObjects) {
  for (const auto& c : cases()) {
    for (const std::string variant : {"A", "B"}) {
      const std::string what = c.placement + " / " + c.sharing + " / " + variant;
      // overrides_for sets k and n for every placement: the ones this placement does not read are dropped.
      Transformer model(drop_unread_settings(memory_config(overrides_for(c, variant))), plugin_registry());
      ASSERT_EQ(model->blocks.size(), 6u);
      ASSERT_EQ(static_cast<int64_t>(model->banks.size()), c.banks) << what;
      EXPECT_EQ(model->memory_layout().bank_of_layer, c.map) << what;
      for (size_t i = 0; i < 6; ++i) {
        const auto& block = model->blocks[i];
        ASSERT_EQ(static_cast<bool>(block->memory), c.map[i] >= 0) << what << " block " << i;
        if (!block->memory) continue;
        EXPECT_EQ(static_cast<bool>(block->memory->mlp), variant == "B") << what << " block " << i;
        // The bank the layer reads is the one the model holds for its group.
        const auto& bank = model->banks[static_cast<size_t>(c.map[i])];
        EXPECT_EQ(block->memory->cross_attn->bank()->parameters()[0].data_ptr(), bank->parameters()[0].data_ptr())
            << what << " block " << i;
      }
      // Distinct groups hold distinct tensors; every bank is named once.
      auto params = model->named_parameters();
      int bank_tensors = 0;
      for (const auto& item : params)
        if (item.key().find("bank") != std::string::npos) ++bank_tensors;
      EXPECT_EQ(bank_tensors, c.banks) << what;
      for (int64_t j = 0; j < c.banks; ++j) {
        const auto* t = params.find("memory_banks." + std::to_string(j) + ".memory");
        ASSERT_NE(t, nullptr) << what << " bank " << j;
        for (int64_t k = 0; k < j; ++k)
          EXPECT_NE(t->data_ptr(), params["memory_banks." + std::to_string(k) + ".memory"].data_ptr()) << what;
      }
      auto description = nlohmann::json::parse(model->describe_json());
      EXPECT_EQ(description["memory_banks"].get<int64_t>(), c.banks) << what;
      for (size_t i = 0; i < 6; ++i) {
        if (c.map[i] < 0) EXPECT_TRUE(description["layers"][i]["memory_bank"].is_null()) << what;
        else EXPECT_EQ(description["layers"][i]["memory_bank"].get<int64_t>(), c.map[i]) << what;
      }
    }
  }
}

// A block recomputed from its parts: variant A is self-attn, memory, MLP; B is self-attn, MLP, memory, MLP.
TEST(MemoryLayout, BlockVariantsRunTheirSublayersInOrder) {
  for (const std::string variant : {"A", "B"}) {
    Transformer model(memory_config({"memory.memory_block_variant=" + variant, "memory.wo_init_zero=false"}),
                      plugin_registry());
    model->eval();
    torch::NoGradGuard guard;
    // Weights large enough that the sublayers' order changes the output visibly.
    for (auto& kv : model->named_parameters())
      if (kv.key().find("norm") == std::string::npos) kv.value().normal_(0.0, kv.key().find("bank") != std::string::npos ? 1.0 : 0.3);
    auto& block = model->blocks[1];
    auto x = torch::randn({2, 5, 32});
    AttentionContext ctx;
    auto got = block->forward(x, ctx, nullptr);

    auto attn = [&](const torch::Tensor& h) {
      AttentionContext c;
      return h + block->attn->forward(block->attn_norm->forward(h), c);
    };
    auto mem = [&](const torch::Tensor& h) {
      AttentionContext c;
      return h + block->memory->cross_attn->forward(block->memory->norm->forward(h), c);
    };
    auto mlp = [&](const torch::Tensor& h) { return h + block->mlp->forward(block->mlp_norm->forward(h)); };
    torch::Tensor expected, other;
    if (variant == "A") {
      expected = mlp(mem(attn(x)));
      other = mem(mlp(attn(x)));
    } else {
      auto mlp2 = [&](const torch::Tensor& h) {
        return h + block->memory->mlp->forward(block->memory->mlp_norm->forward(h));
      };
      expected = mlp2(mem(mlp(attn(x))));
      other = mlp2(mlp(mem(attn(x))));
    }
    EXPECT_LT(max_abs_diff(got, expected), 1e-6) << variant;
    EXPECT_GT(max_abs_diff(got, other), 1e-4) << variant << ": the order must matter for this check to mean anything";
  }
}

TEST(MemoryLayout, VanillaModeAndAdapterOffBuildNoMemory) {
  for (const std::string off : {"memory.vanilla_mode=true", "memory.use_memory_adapter=false",
                                "memory.memory_layer_placement=none"}) {
    Transformer model(drop_unread_settings(memory_config({off})), plugin_registry());
    EXPECT_TRUE(model->banks.empty()) << off;
    for (const auto& block : model->blocks) EXPECT_FALSE(block->memory) << off;
    for (const auto& item : model->named_parameters()) EXPECT_EQ(item.key().find("memory"), std::string::npos) << off;
  }
}

TEST(MemoryLayout, MemoryIsNotASelfAttentionVariant) {
  try {
    Transformer model(tiny_config({"attention.attention_list=[causal, memory]"}), plugin_registry());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Config);
    EXPECT_NE(std::string(e.what()).find("memory.memory_layer_placement"), std::string::npos) << e.what();
  }
}

// The seed configs at tiny sizes: base_small has a shared bank in every block; vanilla_control has no memory
// and, memory starting at zero (wo_init_zero), computes exactly base_small's logits.
TEST(MemoryLayout, SeedConfigsBuildAtTinySizes) {
  const std::vector<std::string> tiny = {"model.hidden_dim=32",       "model.num_heads=4",    "model.num_layers=3",
                                         "model.intermediate_dim=64", "model.vocab_size=97",  "model.max_seq_len=64",
                                         "model.device=cpu",          "memory.num_memory_tokens=16"};
  auto load = [&](const std::string& name) {
    Config c = Config::from_file(plugin_registry().schema(), std::string(MEMTX_SOURCE_DIR) + "/configs/" + name);
    for (const auto& kv : tiny) c.apply_override(kv);
    c.validate();
    return drop_unread_settings(c);  // the tiny bank size means nothing to vanilla_control.yaml
  };
  Transformer base(load("base_small.yaml"), plugin_registry());
  Transformer vanilla(load("vanilla_control.yaml"), plugin_registry());
  ASSERT_EQ(base->banks.size(), 1u);
  for (const auto& block : base->blocks) {
    ASSERT_TRUE(block->memory);
    EXPECT_FALSE(block->memory->mlp);  // variant A
  }
  EXPECT_EQ(base->banks[0]->num_tokens(), 16);
  EXPECT_EQ(base->banks[0]->width(), 32);
  EXPECT_TRUE(vanilla->banks.empty());
  for (const auto& block : vanilla->blocks) EXPECT_FALSE(block->memory);
  base->eval();
  vanilla->eval();
  torch::NoGradGuard guard;
  auto tokens = torch::randint(0, 97, {2, 12}, torch::kLong);
  EXPECT_TRUE(torch::equal(base->forward(tokens), vanilla->forward(tokens)));
}

}  // namespace
}  // namespace memtx::test
