// tests/model/hostile_model_test.cpp: models and Hugging Face folders a stranger could use to exhaust memory or
// to be read wrongly: sizes past the schema's bounds or a whole model past the parameter limit (refused with the
// estimate, before anything is allocated), lossy config.json integers (2.7 layers), an integer tensor read into
// a float weight, and float token ids in io.safetensors; config.json values of the wrong JSON type and a
// product that overflowed (found by fuzz/hf_config_fuzz).
#include <sys/resource.h>

#include <filesystem>

#include "common/error_of.hpp"
#include "hf_folder_support.hpp"
#include "io/safetensors.hpp"
#include "model/hf_import.hpp"
#include "model/model_size.hpp"

namespace memtx::test {
namespace {

using memtx_test::error_of;

const std::string kQwen2 = std::string(MEMTX_FIXTURES_DIR) + "/hf/qwen2-tiny";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

long peak_rss_mib() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

TEST(HostileModel, ModelPastTheParameterLimitIsRefusedWithTheEstimate) {
  const long before = peak_rss_mib();
  const Config c = tiny_config({"model.num_layers=4096", "model.hidden_dim=65536", "model.num_heads=64",
                                "model.intermediate_dim=1048576"});
  const std::string msg = error_of([&] { Transformer(c, plugin_registry()); }, StatusCode::Config);
  EXPECT_TRUE(contains(msg, "the model would have about 9.")) << msg;
  EXPECT_TRUE(contains(msg, "4096 blocks x")) << msg;
  EXPECT_TRUE(contains(msg, "more than the limit of 1.1e+12 (2^40)")) << msg;
  EXPECT_LT(peak_rss_mib() - before, 512) << "MiB allocated before the refusal";
}

TEST(HostileModel, ModelLargerThanTheHostIsRefused) {
  // About 9.7e11 parameters: within the fixed limit, but 3.5 TiB in float32 fits no test machine.
  const Config c = tiny_config({"model.num_layers=1000", "model.hidden_dim=8192", "model.num_heads=64",
                                "model.intermediate_dim=28672"});
  const std::string msg = error_of([&] { Transformer(c, plugin_registry()); }, StatusCode::Config);
  EXPECT_TRUE(contains(msg, "TiB in float32")) << msg;
  EXPECT_TRUE(contains(msg, "of memory")) << msg;
}

TEST(HostileModel, EstimateOfASmallModelIsExact) {
  // Untied 97 x 32 embeddings twice, 2 blocks of q/k/v/o 32x32, SwiGLU 3 x 32 x 64 and two norms, a final norm.
  const Config c = tiny_config({"model.tie_embeddings=false"});
  const ModelSpec spec = ModelSpec::from_config(c, plugin_registry());
  const ModelSizeEstimate e = estimate_model_size(spec, c);
  EXPECT_EQ(e.parameters, 2u * 97 * 32 + 2u * (4 * 32 * 32 + 3 * 32 * 64 + 2 * 32) + 32);
  EXPECT_EQ(e.build_bytes, 4 * e.parameters);
}

class HostileHfConfig : public HfConfigFolder {
 protected:
  HostileHfConfig() : HfConfigFolder(kQwen2) {}
};

TEST_F(HostileHfConfig, HugeLayerCountIsRefused) {
  config_["num_hidden_layers"] = 1e9;
  const std::string msg = config_error();
  EXPECT_TRUE(contains(msg, "config.json: model.num_layers: expected int in [1, 4096], got 1000000000")) << msg;
  config_["num_hidden_layers"] = 1000000000;
  EXPECT_TRUE(contains(config_error(), "model.num_layers"));
}

TEST_F(HostileHfConfig, NonIntegralNumbersAreRefused) {
  config_["num_hidden_layers"] = 2.7;
  std::string msg = config_error();
  EXPECT_TRUE(contains(msg, "'num_hidden_layers' is 2.7, not an integer")) << msg;
  EXPECT_TRUE(contains(msg, "config.json")) << msg;
  config_["num_hidden_layers"] = 2;
  config_["max_position_embeddings"] = 32768.5;
  msg = config_error();
  EXPECT_TRUE(contains(msg, "'max_position_embeddings' is 32768.5, not an integer")) << msg;
  config_["max_position_embeddings"] = 32768.0;  // an integral float reads as its integer
  EXPECT_EQ(mapped().get_int("model.max_seq_len"), 32768);
}

// fuzz/regressions/hf_config/: optional fields of the wrong JSON type (a string rms_norm_eps, a number for
// tie_word_embeddings or model_type) escaped as raw nlohmann type errors naming no file or key; so did a document
// that is not an object.
TEST_F(HostileHfConfig, MistypedOptionalFieldsNameTheKey) {
  config_["rms_norm_eps"] = "x";
  EXPECT_TRUE(contains(config_error(), "config.json: 'rms_norm_eps' is a JSON string, not a number"));
  config_["rms_norm_eps"] = nullptr;  // null reads as absent, as for the integer fields
  config_["tie_word_embeddings"] = 1;
  EXPECT_TRUE(contains(config_error(), "config.json: 'tie_word_embeddings' is a JSON number, not a boolean"));
  config_["tie_word_embeddings"] = true;
  config_["hidden_act"] = {"silu"};
  EXPECT_TRUE(contains(config_error(), "config.json: 'hidden_act' is a JSON array, not a string"));
  config_["hidden_act"] = "silu";
  config_["rope_parameters"]["rope_theta"] = "big";
  EXPECT_TRUE(contains(config_error(), "config.json: 'rope_theta' is a JSON string, not a number"));
  config_["rope_parameters"]["rope_theta"] = 1e4;
  config_["model_type"] = 2;
  EXPECT_TRUE(contains(config_error(), "config.json: 'model_type' is a JSON number, not a string"));
  config_ = nlohmann::json::array({1, 2});
  EXPECT_TRUE(contains(config_error(), "config.json: the document is a JSON array, not an object of settings"));
}

// fuzz/regressions/hf_config/mamba_overflow.json: intermediate_size was compared with expand * hidden_size before
// either was bounded, a signed overflow (undefined behaviour) for hidden_size 2^62.
TEST(HostileHf, MambaSizesAreBoundedBeforeTheirProduct) {
  const std::string mamba = std::string(MEMTX_FIXTURES_DIR) + "/hf/mamba-tiny";
  if (!std::filesystem::exists(mamba)) GTEST_SKIP() << "fixtures not found at " << mamba;
  nlohmann::json j = read_json(mamba + "/config.json");
  j["hidden_size"] = int64_t{1} << 62;
  j["expand"] = 4;
  j["intermediate_size"] = 1;
  HfFolder folder;
  folder.write_json("config.json", j);
  const std::string msg = error_of([&] { hf_config_to_memtx(folder.dir(), plugin_registry()); }, StatusCode::Config);
  EXPECT_TRUE(contains(msg, "model.hidden_dim: expected int in [1, 65536], got 4611686018427387904")) << msg;
}

// A copy of the qwen2-tiny folder whose weights and reference outputs a test may alter.
class HostileHfFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kQwen2)) GTEST_SKIP() << "fixtures not found at " << kQwen2;
    for (const char* name : {"config.json", "model.safetensors", "io.safetensors"}) folder_.copy_from(kQwen2, name);
  }
  // Rewrites a file of the folder with fn applied to its tensors.
  void edit(const std::string& file, const std::function<void(std::vector<std::pair<std::string, torch::Tensor>>&)>& fn) {
    const std::string path = folder_.path(file);
    auto st = io::read_safetensors(path);
    fn(st.tensors);
    std::filesystem::remove(path);
    io::write_safetensors(path, st.tensors, st.metadata);
  }
  HfFolder folder_;
};

TEST_F(HostileHfFolder, IntegerTensorIntoAFloatWeightIsRefused) {
  std::string name;
  edit("model.safetensors", [&](auto& tensors) {
    name = tensors.front().first;
    tensors.front().second = tensors.front().second.to(torch::kChar);
  });
  const std::string msg = error_of([&] { load_hf_model(folder_.dir(), plugin_registry()); }, StatusCode::Io);
  EXPECT_TRUE(contains(msg, "tensor '" + name + "' has dtype I8")) << msg;
  EXPECT_TRUE(contains(msg, "is F32")) << msg;
}

TEST_F(HostileHfFolder, FloatWeightsOfAnotherPrecisionStillLoad) {
  edit("model.safetensors", [](auto& tensors) {
    for (auto& [name, t] : tensors) t = t.to(torch::kBFloat16);
  });
  EXPECT_NO_THROW(load_hf_model(folder_.dir(), plugin_registry()));
}

TEST_F(HostileHfFolder, FloatTokenIdsAreRefused) {
  edit("io.safetensors", [](auto& tensors) {
    for (auto& [name, t] : tensors)
      if (name == "input_ids") t = t.to(torch::kFloat) + 0.6;
  });
  const std::string msg = error_of([&] { check_fixture_json(folder_.dir(), plugin_registry()); }, StatusCode::Io);
  EXPECT_TRUE(contains(msg, "'input_ids' has dtype F32; token ids must be an integer dtype")) << msg;
}

}  // namespace
}  // namespace memtx::test
