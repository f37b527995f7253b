// tests/model/shipped_configs_test.cpp: every file in configs/ loads and validates against the schema of the
// built plugins (so plugin options such as infini_attention.memory_update are known), starts with a comment
// line saying what it is for, and, unless it names a base model that is not here, becomes a model spec.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "test_support.hpp"

namespace fs = std::filesystem;

namespace memtx::test {
namespace {

std::vector<fs::path> shipped_configs() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(MEMTX_SOURCE_DIR) / "configs"))
    if (e.is_regular_file() && (e.path().extension() == ".yaml" || e.path().extension() == ".yml"))
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ShippedConfigs, LoadValidateAndBecomeModelSpecs) {
  const auto files = shipped_configs();
  for (const char* name : {"tiny_causal.yaml", "base_small.yaml", "vanilla_control.yaml", "adapter_qwen2.5_1.5b.yaml",
                           "memory_lora_combined.yaml", "infini_small.yaml", "mixed_list.yaml", "cpu_small.yaml",
                           "passkey_infini.yaml"})
    EXPECT_TRUE(std::count(files.begin(), files.end(), fs::path(MEMTX_SOURCE_DIR) / "configs" / name))
        << "missing configs/" << name;
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    try {
      Config c = Config::from_file(plugin_registry().schema(), f.string());
      c.validate();
      if (!c.get_opt_string("model.base_model_name")) {
        ModelSpec spec = ModelSpec::from_config(c, plugin_registry());
        EXPECT_EQ(spec.layer_spec(0).variant.empty(), false);
      }
      std::ifstream in(f);
      std::string first;
      std::getline(in, first);
      EXPECT_EQ(first.rfind("# ", 0), 0u) << "the first line should be a comment saying what the file is for";
    } catch (const memtx::Error& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

// The builtin schema alone (no plugins loaded) must reject a plugin's option by name, so that the test above is
// what catches a shipped config using one.
TEST(ShippedConfigs, PluginOptionsNeedThePluginSchema) {
  const std::string yaml = "infini_attention:\n  memory_update: delta\n";
  auto builtin = std::shared_ptr<const Schema>(&Schema::builtin(), [](const Schema*) {});
  try {
    Config::from_string(builtin, yaml).validate();
    ADD_FAILURE() << "the builtin schema accepted a plugin option";
  } catch (const memtx::Error& e) {
    EXPECT_NE(std::string(e.what()).find("infini_attention.memory_update"), std::string::npos) << e.what();
  }
  Config c = Config::from_string(plugin_registry().schema(), yaml);
  c.validate();
  EXPECT_EQ(c.get_string("infini_attention.memory_update"), "delta");
}

}  // namespace
}  // namespace memtx::test
