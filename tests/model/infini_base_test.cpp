// Infini-attention over a pretrained base (model.base_model_name with attention_list [infini] or a mix): the
// layers take the base's q/k/v/o, norms and MLPs, the gates are new (explained, trainable while the base is
// frozen) and start shut, so with a segment as long as the input the model gives the base's logits, those of
// transformers in the fixtures, within their tolerance; an open gate (balance_init_type zeros) does not.
#include <filesystem>

#include "hf_folder_support.hpp"
#include "io/safetensors.hpp"
#include "model/adapter.hpp"

namespace fs = std::filesystem;

namespace memtx::test {
namespace {

class InfiniOverBase : public ::testing::TestWithParam<std::string> {};

Config infini_over(const std::string& base, const std::vector<std::string>& overrides) {
  Config c(plugin_registry().schema());
  for (const std::string& kv : std::vector<std::string>{"model.base_model_name=" + base, "model.device=cpu",
                                                        "attention.attention_list=[infini]"})
    c.apply_override(kv);
  for (const auto& kv : overrides) c.apply_override(kv);
  return c;
}

TEST_P(InfiniOverBase, ReproducesTheBaseWithinOneSegment) {
  const std::string dir = std::string(MEMTX_FIXTURES_DIR) + "/hf/" + GetParam();
  if (!fs::exists(dir)) GTEST_SKIP() << "fixtures not found at " << dir;
  auto io = io::read_safetensors((fs::path(dir) / "io.safetensors").string());
  const torch::Tensor ids = io.find("input_ids")->to(torch::kLong);
  const std::string segment = "infini_attention.segment_length=" + std::to_string(ids.size(1));
  torch::NoGradGuard no_grad;

  Transformer model(infini_over(dir, {segment}), plugin_registry());
  model->eval();
  const auto logits = model->forward(ids);
  EXPECT_LT(max_abs_diff(logits, *io.find("logits")), 2e-4) << "transformers' logits";

  // Every layer's gate is new, explained and trainable; the base is frozen.
  const int64_t layers = model->spec().num_layers;
  ASSERT_EQ(model->new_parameters().size(), static_cast<size_t>(layers));
  for (const auto& p : model->new_parameters()) {
    EXPECT_NE(p.name.find(".attn.balance"), std::string::npos) << p.name;
    EXPECT_NE(p.explanation.find("new in the 'infini' layer"), std::string::npos) << p.explanation;
    EXPECT_NE(p.explanation.find("'causal' attention, without 'balance'"), std::string::npos) << p.explanation;
  }
  auto params = model->named_parameters();
  EXPECT_TRUE(params["layers.0.attn.balance"].requires_grad());
  EXPECT_FALSE(params["layers.0.attn.q_proj.weight"].requires_grad());

  // The gate half open from the start (the default without a base): no longer the base.
  Transformer open(infini_over(dir, {segment, "infini_attention.balance_init_type=zeros"}), plugin_registry());
  open->eval();
  EXPECT_GT(max_abs_diff(open->forward(ids), logits), 1e-3);

  // A mix: only the infini layers are new.
  Transformer mixed(infini_over(dir, {segment, "attention.attention_list=[causal, infini]"}), plugin_registry());
  mixed->eval();
  EXPECT_EQ(mixed->new_parameters().size(), static_cast<size_t>(layers / 2));
  EXPECT_LT(max_abs_diff(mixed->forward(ids), *io.find("logits")), 2e-4);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, InfiniOverBase, ::testing::Values("qwen2-tiny", "llama-tiny"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param == "qwen2-tiny" ? std::string("qwen2") : std::string("llama");
                         });

}  // namespace
}  // namespace memtx::test
