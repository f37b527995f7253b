// Checks memtx against Hugging Face transformers outputs it did not compute (../shared/fixtures/hf): every
// attention module fed the reference input, and the whole model's logits, within the fixtures' tolerances.
#include <filesystem>

#include "hf_folder_support.hpp"
#include "model/hf_import.hpp"

namespace memtx::test {
namespace {

const std::string kFixtures = MEMTX_FIXTURES_DIR;

TEST(Fixture, Qwen2Tiny) { expect_fixture_passes("qwen2-tiny", 2); }
TEST(Fixture, LlamaTiny) { expect_fixture_passes("llama-tiny", 2); }

TEST(Fixture, ConfigMappingOfQwen2) {
  const std::string dir = kFixtures + "/hf/qwen2-tiny";
  if (!std::filesystem::exists(dir)) GTEST_SKIP();
  Config c = hf_config_to_memtx(dir, plugin_registry());
  EXPECT_EQ(c.get_int("model.num_heads"), 4);
  EXPECT_EQ(c.get_int("attention.n_kv_group"), 2);
  EXPECT_TRUE(c.get_bool("model.attention_bias"));
  EXPECT_TRUE(c.get_bool("model.tie_embeddings"));
  EXPECT_DOUBLE_EQ(c.get_float("model.norm_eps"), 1e-6);
}

class BrokenFolder : public ::testing::Test {
 protected:
  std::string expect_error(StatusCode code) {
    return memtx_test::error_of([&] { load_hf_model(folder_.dir(), plugin_registry()); }, code);
  }
  HfFolder folder_;
};

TEST_F(BrokenFolder, MissingConfig) { EXPECT_NE(expect_error(StatusCode::NotFound).find("config.json"), std::string::npos); }

TEST_F(BrokenFolder, UnsupportedArchitecture) {
  folder_.write("config.json", R"({"model_type": "gpt_neox", "architectures": ["GPTNeoXForCausalLM"]})");
  EXPECT_NE(expect_error(StatusCode::Config).find("gpt_neox"), std::string::npos);
}

TEST_F(BrokenFolder, MissingWeights) {
  if (!std::filesystem::exists(kFixtures + "/hf/llama-tiny")) GTEST_SKIP();
  folder_.copy_from(kFixtures + "/hf/llama-tiny", "config.json");
  EXPECT_NE(expect_error(StatusCode::NotFound).find("model.safetensors"), std::string::npos);
}

TEST_F(BrokenFolder, ShapeMismatchNamesTheTensor) {
  const std::string src = kFixtures + "/hf/llama-tiny";
  if (!std::filesystem::exists(src)) GTEST_SKIP();
  auto j = read_json(src + "/config.json");
  j["intermediate_size"] = 96;  // weights say 160
  folder_.write_json("config.json", j);
  folder_.copy_from(src, "model.safetensors");
  auto message = expect_error(StatusCode::Io);
  EXPECT_NE(message.find("mlp"), std::string::npos) << message;
  EXPECT_NE(message.find("160"), std::string::npos) << message;
}

}  // namespace
}  // namespace memtx::test
