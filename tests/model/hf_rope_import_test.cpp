// tests/model/hf_rope_import_test.cpp: config.json -> memtx for RoPE scaling and Qwen2 sliding windows
// (model/hf_rope.cpp): each rope_type's keys, the older rope_scaling spelling, dynamic's extended input limit,
// the sliding layers from layer_types or max_window_layers, and malformed or unsupported settings named.
#include "hf_folder_support.hpp"

namespace memtx::test {
namespace {

class Qwen2RopeFolder : public HfConfigFolder {
 protected:
  Qwen2RopeFolder() : HfConfigFolder(std::string(MEMTX_FIXTURES_DIR) + "/hf/qwen2-tiny") {}
};

TEST_F(Qwen2RopeFolder, EachRopeTypeSetsItsKeys) {
  config_["max_position_embeddings"] = 256;
  config_["rope_parameters"] = {{"rope_type", "llama3"}, {"rope_theta", 5e5}, {"factor", 8.0},
                                {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                                {"original_max_position_embeddings", 32}};
  Config c = mapped();
  EXPECT_EQ(c.get_string("model.rope_scaling"), "llama3");
  EXPECT_EQ(c.get_float("model.rope_theta"), 5e5);
  EXPECT_EQ(c.get_float("model.rope_scaling_factor"), 8.0);
  EXPECT_EQ(c.get_int("model.rope_original_max_seq_len"), 32);
  EXPECT_EQ(c.get_int("model.max_seq_len"), 256);

  config_["rope_parameters"] = {{"rope_type", "dynamic"}, {"rope_theta", 1e4}, {"factor", 4.0}};
  c = mapped();
  EXPECT_EQ(c.get_int("model.rope_original_max_seq_len"), 256);  // dynamic: the file's length is the original
  EXPECT_EQ(c.get_int("model.max_seq_len"), 1024);              // and inputs may be factor times longer

  // The older spelling: rope_theta beside rope_scaling {type, factor}; yarn with DeepSeek's mscale pair.
  config_.erase("rope_parameters");
  config_["rope_theta"] = 2e4;
  config_["rope_scaling"] = {{"type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 64},
                             {"mscale", 1.0}, {"mscale_all_dim", 0.5}};
  c = mapped();
  EXPECT_EQ(c.get_string("model.rope_scaling"), "yarn");
  EXPECT_EQ(c.get_float("model.rope_theta"), 2e4);
  const double m = 0.1 * std::log(4.0);
  EXPECT_DOUBLE_EQ(*c.get_opt_float("model.rope_yarn_attention_factor"), (m + 1.0) / (0.5 * m + 1.0));
  EXPECT_EQ(c.get_float("model.rope_yarn_beta_fast"), 32.0);
  Transformer model(c, plugin_registry());  // every key it set is read
}

TEST_F(Qwen2RopeFolder, UnsupportedOrIncompleteScalingIsNamed) {
  config_["rope_parameters"] = {{"rope_type", "longrope"}, {"rope_theta", 1e4}, {"factor", 4.0}};
  EXPECT_NE(config_error().find("rope_type 'longrope' is not supported"), std::string::npos);
  config_["rope_parameters"] = {{"rope_type", "llama3"}, {"rope_theta", 1e4}, {"factor", 4.0}};
  EXPECT_NE(config_error().find("low_freq_factor"), std::string::npos);
  config_["rope_parameters"] = {{"rope_type", "linear"}, {"rope_theta", 1e4}};
  EXPECT_NE(config_error().find("needs a 'factor' > 0"), std::string::npos);
  config_["rope_parameters"] = {{"rope_type", "linear"}, {"rope_theta", 1e4}, {"factor", "4"}};
  EXPECT_NE(config_error().find("'factor' is a JSON string"), std::string::npos);
}

TEST_F(Qwen2RopeFolder, SlidingLayersComeFromLayerTypesOrMaxWindowLayers) {
  const int64_t layers = config_["num_hidden_layers"].get<int64_t>();
  ASSERT_GE(layers, 2);
  config_.erase("layer_types");  // transformers 5 writes it: it takes precedence over max_window_layers
  config_["use_sliding_window"] = true;
  config_["sliding_window"] = 16;
  config_["max_window_layers"] = 1;
  Config c = mapped();
  EXPECT_EQ(c.get_int("attention.sliding_window"), 16);
  std::vector<int64_t> expected;
  for (int64_t i = 1; i < layers; ++i) expected.push_back(i);
  EXPECT_EQ(c.get_int_list("attention.sliding_window_layers"), expected);

  config_["layer_types"] = std::vector<std::string>(layers, "full_attention");
  config_["layer_types"][0] = "sliding_attention";
  c = mapped();
  EXPECT_EQ(c.get_int_list("attention.sliding_window_layers"), std::vector<int64_t>{0});

  config_["layer_types"] = {"sliding_attention"};
  EXPECT_NE(config_error().find("'layer_types' has 1 entries"), std::string::npos);
  config_.erase("layer_types");
  config_["sliding_window"] = 0;
  EXPECT_NE(config_error().find("'sliding_window' is not a positive integer"), std::string::npos);
  config_["use_sliding_window"] = false;  // the window's size is then irrelevant
  EXPECT_FALSE(mapped().get_opt_int("attention.sliding_window").has_value());
}

}  // namespace
}  // namespace memtx::test
