// The ssm plugin against Hugging Face transformers' Mamba (../shared/fixtures/hf/mamba-tiny): every
// MambaMixer fed its reference input, whole-model logits, the same logits when the tokens are streamed in
// pieces through the carried state, and the config.json mapping with its errors.
#include <filesystem>

#include "hf_folder_support.hpp"
#include "io/safetensors.hpp"
#include "model/hf_import.hpp"
#include "ssm_support.hpp"

namespace memtx::test {
namespace {

const std::string kMambaDir = std::string(MEMTX_FIXTURES_DIR) + "/hf/mamba-tiny";

TEST(SsmFixture, MambaTinyMatchesTransformers) {
  if (!std::filesystem::exists(kMambaDir)) GTEST_SKIP() << "fixtures not found at " << kMambaDir;
  expect_fixture_passes("mamba-tiny", 2);
}

TEST(SsmFixture, MambaTinyStreamedInPiecesMatchesTransformers) {
  if (!std::filesystem::exists(kMambaDir)) GTEST_SKIP();
  auto io = io::read_safetensors(kMambaDir + "/io.safetensors");
  auto ids = io.find("input_ids")->to(torch::kLong);
  const auto& logits = *io.find("logits");
  torch::NoGradGuard guard;
  for (const char* scan : {"sequential", "chunked"}) {
    HfModelInfo info;
    Config c = hf_config_to_memtx(kMambaDir, plugin_registry(), &info);
    c.set("attention.ssm_scan", std::string(scan));
    Transformer m(c, plugin_registry());
    load_hf_weights(*m, kMambaDir, info);
    ModelState state = m->initial_state(ids.size(0));
    std::vector<torch::Tensor> outs;
    for (int64_t start = 0, len = 1; start < ids.size(1); start += len, len = len % 7 + 2) {
      outs.push_back(m->forward(ids.narrow(1, start, std::min(len, ids.size(1) - start)), &state));
    }
    const double err = max_abs_diff(torch::cat(outs, 1), logits);
    std::cout << "[fixture] mamba-tiny streamed (" << scan << ") logits max abs error " << err << "\n";
    EXPECT_LE(err, 2e-4) << scan;
  }
}

TEST(SsmFixture, ConfigMapping) {
  if (!std::filesystem::exists(kMambaDir)) GTEST_SKIP();
  HfModelInfo info;
  Config c = hf_config_to_memtx(kMambaDir, plugin_registry(), &info);
  EXPECT_EQ(info.layer_prefix, "backbone.layers.");
  EXPECT_EQ(info.mixer_name, "mixer");
  EXPECT_EQ(c.get_string("attention.attention_variant"), "ssm");
  EXPECT_FALSE(c.get_bool("model.use_mlp"));
  // Mamba has no RoPE: the mapping sets no key the ssm layers would not read (use_rope stays at its default).
  EXPECT_TRUE(ignored_settings(c, &plugin_registry(), SettingScope::Model).empty());
  EXPECT_TRUE(c.get_bool("model.use_rms_norm"));
  EXPECT_TRUE(c.get_bool("model.tie_embeddings"));
  EXPECT_EQ(c.get_int("model.hidden_dim"), 64);
  EXPECT_EQ(c.get_int("model.num_layers"), 2);
  EXPECT_EQ(c.get_int("model.vocab_size"), 512);
  EXPECT_EQ(c.get_int("attention.ssm_d_state"), 16);
  EXPECT_EQ(c.get_int("attention.ssm_mamba_expand"), 2);
  EXPECT_EQ(c.get_int("attention.ssm_conv_kernel_size"), 4);
  EXPECT_EQ(c.get_int("attention.ssm_dt_rank"), 8);
  EXPECT_FALSE(c.get_bool("attention.ssm_io_bias"));
  EXPECT_DOUBLE_EQ(c.get_float("model.norm_eps"), 1e-5);
  EXPECT_EQ(hf_to_memtx_name("backbone.embeddings.weight", info), "embed_tokens.weight");
  EXPECT_EQ(hf_to_memtx_name("backbone.layers.1.norm.weight", info), "layers.1.attn_norm.weight");
  EXPECT_EQ(hf_to_memtx_name("backbone.layers.12.mixer.A_log", info), "layers.12.attn.A_log");
  EXPECT_EQ(hf_to_memtx_name("backbone.layers.0.mixer.conv1d.bias", info), "layers.0.attn.conv1d.bias");
  EXPECT_EQ(hf_to_memtx_name("backbone.norm_f.weight", info), "norm.weight");
  EXPECT_EQ(hf_to_memtx_name("lm_head.weight", info), "lm_head.weight");
}

class MambaConfigErrors : public HfConfigFolder {
 protected:
  MambaConfigErrors() : HfConfigFolder(kMambaDir) {}
};

TEST_F(MambaConfigErrors, ConvWithoutBiasIsRefused) {
  config_["use_conv_bias"] = false;
  EXPECT_NE(config_error().find("use_conv_bias"), std::string::npos);
}

TEST_F(MambaConfigErrors, InconsistentIntermediateSize) {
  config_["intermediate_size"] = 100;
  const auto message = config_error();
  EXPECT_NE(message.find("intermediate_size"), std::string::npos) << message;
  EXPECT_NE(message.find("100"), std::string::npos) << message;
}

TEST_F(MambaConfigErrors, MissingStateSize) {
  config_.erase("state_size");
  EXPECT_NE(config_error().find("state_size"), std::string::npos);
}

TEST_F(MambaConfigErrors, AutoTimeStepRankIsResolved) {
  config_["time_step_rank"] = "auto";
  Config c = mapped();
  EXPECT_EQ(c.get_int("attention.ssm_dt_rank"), 4);  // ceil(64 / 16)
}

}  // namespace
}  // namespace memtx::test
