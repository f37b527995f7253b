// tests/config/test_files.cpp: what the shipped configs/ say, and the broken examples in tests/config/broken/
// (every file is rejected; its first line "# expect: <fragment>" gives the text the message must contain after
// "<path>:"). That every shipped config loads and validates, plugin options included, is tested in
// tests/model/shipped_configs_test.cpp, which has the plugins' schema.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "helpers.hpp"

namespace fs = std::filesystem;
using memtx::Config;
using memtx_test::shipped;

namespace {

std::vector<fs::path> yaml_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && (e.path().extension() == ".yaml" || e.path().extension() == ".yml"))
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(ConfigFiles, ShippedConfigsSayWhatTheyClaim) {
  const fs::path dir = fs::path(MEMTX_SOURCE_DIR) / "configs";
  Config tiny = Config::from_file(shipped(), (dir / "tiny_causal.yaml").string());
  EXPECT_EQ(tiny.get_int("model.num_layers"), 4);
  EXPECT_EQ(tiny.get_int("model.hidden_dim"), 256);
  EXPECT_EQ(tiny.get_int("model.num_heads"), 4);
  EXPECT_EQ(tiny.get_opt_int("attention.n_kv_group"), 2);
  EXPECT_EQ(tiny.get_int("model.vocab_size"), 512);
  EXPECT_EQ(tiny.get_string("model.device"), "cpu");
  EXPECT_TRUE(tiny.get_bool("memory.vanilla_mode"));

  Config adapter = Config::from_file(shipped(), (dir / "adapter_qwen2.5_1.5b.yaml").string());
  EXPECT_EQ(adapter.get_opt_string("model.base_model_name"), "models/Qwen2.5-1.5B");
  EXPECT_EQ(adapter.get_int_list("memory.memory_layer_indices"), (std::vector<int64_t>{0, 1, 2, 3, 4, 23, 24, 25, 26, 27}));
  EXPECT_EQ(adapter.get_int("memory.memory_rank"), 256);

  EXPECT_TRUE(Config::from_file(shipped(), (dir / "vanilla_control.yaml").string()).get_bool("memory.vanilla_mode"));
  EXPECT_TRUE(Config::from_file(shipped(), (dir / "memory_lora_combined.yaml").string())
                  .get_bool("memory.use_both_memory_and_lora"));
  EXPECT_EQ(Config::from_file(shipped(), (dir / "infini_small.yaml").string()).get_string_list("attention.attention_list"),
            (std::vector<std::string>{"causal", "infini"}));
  EXPECT_EQ(Config::from_file(shipped(), (dir / "mixed_list.yaml").string()).get_string_list("attention.attention_list"),
            (std::vector<std::string>{"causal", "infini", "ssm"}));
}

TEST(ConfigFiles, BrokenExamplesAreRejected) {
  const fs::path dir = fs::path(MEMTX_SOURCE_DIR) / "tests" / "config" / "broken";
  auto files = yaml_files(dir);
  EXPECT_GE(files.size(), 10u);
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    std::ifstream in(f);
    std::string first;
    std::getline(in, first);
    const std::string tag = "# expect: ";
    ASSERT_EQ(first.rfind(tag, 0), 0u) << "first line must be '# expect: <message fragment>'";
    const std::string fragment = first.substr(tag.size());
    std::string msg;
    try {
      Config c = Config::from_file(shipped(), f.string());
      c.validate();
      ADD_FAILURE() << "accepted";
      continue;
    } catch (const memtx::Error& e) {
      EXPECT_EQ(static_cast<int>(e.code()), static_cast<int>(memtx::StatusCode::Config));
      msg = e.what();
    }
    EXPECT_CONTAINS(msg, fragment);
    // Load errors start with "<path>:<line>: "; validate() errors name keys instead.
    if (fragment.rfind(":", 0) == 0) {
      EXPECT_EQ(msg.rfind(f.string() + fragment, 0), 0u) << msg;
    }
  }
}
