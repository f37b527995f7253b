// tests/plugin/shipped_schema_test.cpp: a registry with the build tree's plugins has exactly the schema that
// tests/config checks and docs/config.md documents (builtin plus each plugin's <plugin>_keys.cpp), so the
// torch-free config tests speak for what the plugins really register.
#include <gtest/gtest.h>

#include "common/shipped_schema.hpp"
#include "plugin/registry.hpp"

namespace memtx::test {
namespace {

TEST(ShippedSchema, LoadedPluginsRegisterTheDocumentedKeysAndRules) {
  Registry registry;
  ASSERT_TRUE(registry.load_directory(std::string(MEMTX_BUILD_DIR) + "/plugins").empty());
  const Schema& loaded = *registry.schema();
  const Schema& shipped = *memtx_test::shipped_schema();
  ASSERT_EQ(loaded.options().size(), shipped.options().size());
  for (size_t i = 0; i < shipped.options().size(); ++i) {
    EXPECT_EQ(loaded.options()[i].key, shipped.options()[i].key);
    EXPECT_EQ(loaded.options()[i].default_value, shipped.options()[i].default_value) << shipped.options()[i].key;
  }
  ASSERT_EQ(loaded.rules().size(), shipped.rules().size());
  for (size_t i = 0; i < shipped.rules().size(); ++i) EXPECT_EQ(loaded.rules()[i].text, shipped.rules()[i].text);
  EXPECT_EQ(loaded.markdown_reference(), shipped.markdown_reference());
}

// Each variant lists the keys it reads, its own and the host's, so that the ignored-setting check and
// `memtx-cli plugins` can say which variant reads a key.
TEST(ShippedSchema, VariantsDeclareTheirOwnKeys) {
  Registry registry;
  registry.load_directory(std::string(MEMTX_BUILD_DIR) + "/plugins");
  auto reads = [&](const char* variant, const char* key) {
    const VariantDesc* desc = registry.find(variant);
    if (!desc) return false;
    for (const OptionDef& d : desc->options)
      if (d.key == key) return true;
    return false;
  };
  EXPECT_TRUE(reads("causal", "attention.attn_logit_softcapping"));
  EXPECT_TRUE(reads("causal", "attention.use_qk_norm"));
  EXPECT_TRUE(reads("infini", "attention.use_qk_norm"));
  EXPECT_TRUE(reads("infini", "infini_attention.balance_init_type"));
  EXPECT_TRUE(reads("infini", "infini_attention.segment_length"));
  EXPECT_TRUE(reads("mla", "attention.mla_latent_dim"));
  EXPECT_TRUE(reads("ssm", "attention.ssm_d_state"));
  EXPECT_TRUE(reads("co4", "attention.mod_fn"));
  EXPECT_TRUE(reads("linear", "attention.linear_chunk_size"));
  EXPECT_FALSE(reads("linear", "attention.use_qk_norm"));
  EXPECT_FALSE(reads("mla", "infini_attention.balance_init_type"));
  EXPECT_EQ(registry.find("causal")->rules.size(), 5u);  // LoBo, two RoPE sizes, QK-norm scale, window layers
  EXPECT_TRUE(reads("causal", "attention.sliding_window"));
  EXPECT_TRUE(reads("causal", "model.rope_scaling"));
  EXPECT_FALSE(reads("mla", "model.rope_scaling"));
  EXPECT_EQ(registry.find("mla")->rules.size(), 1u);
}

}  // namespace
}  // namespace memtx::test
