// tests/gpu/device_selection_test.cpp: model.device on machines with and without CUDA; these tests run everywhere
// (no skip). Without a CUDA device, model.device=cuda is a clean configuration error naming model.device, from the
// C++ core (memtx::Error, StatusCode::Config) and from the C API (a MEMTX_CONFIG status; nothing thrown, no model
// made), and model.device=auto picks the CPU. With one, the same requests build the model on the GPU.
#include <string>

#include "gpu_support.hpp"
#include "memtx.h"
#include "memtx/error.hpp"

namespace memtx::test::gpu {
namespace {

const std::vector<std::string> kSmall = {"attention.attention_variant=causal"};

TEST(DeviceSelection, CudaRequestIsACleanConfigErrorWithoutCuda) {
  if (torch::cuda::is_available()) {
    Transformer model(config_on(kSmall, "cuda"), plugin_registry());
    for (const auto& p : model->named_parameters()) EXPECT_TRUE(p.value().device().is_cuda()) << p.key();
    EXPECT_TRUE(model->spec().device.is_cuda());
    return;
  }
  try {
    Transformer model(config_on(kSmall, "cuda"), plugin_registry());
    ADD_FAILURE() << "a model was built on 'cuda' without a CUDA device";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::Config) << e.what();
    EXPECT_NE(std::string(e.what()).find("model.device"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cuda"), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a memtx::Error: " << e.what();
  }
}

TEST(DeviceSelection, AutoPicksCudaWhenVisibleAndTheCpuOtherwise) {
  Transformer model(config_on(kSmall, "auto"), plugin_registry());
  const bool cuda = torch::cuda::is_available();
  EXPECT_EQ(model->spec().device.is_cuda(), cuda);
  for (const auto& p : model->named_parameters()) EXPECT_EQ(p.value().device().is_cuda(), cuda) << p.key();
  torch::NoGradGuard no_grad;
  auto logits = model->forward(fixed_tokens(1, 6, 3));
  EXPECT_EQ(logits.device().is_cuda(), cuda);
  EXPECT_TRUE(all_finite(logits));
}

// The C API: a status, never an exception or a crash.
class CApiDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    memtx_context_options options = memtx_context_default_options();
    options.load_default_plugins = 0;
    ASSERT_EQ(take(memtx_context_create(&options, &ctx_)), "ok");
    ASSERT_EQ(take(memtx_plugin_load_dir(ctx_, MEMTX_BUILD_DIR "/plugins")), "ok");
    ASSERT_EQ(take(memtx_config_create(ctx_, &cfg_)), "ok");
    for (const auto& [key, value] : std::vector<std::pair<const char*, const char*>>{
             {"model.hidden_dim", "32"}, {"model.num_heads", "4"}, {"model.num_layers", "2"},
             {"model.intermediate_dim", "64"}, {"model.vocab_size", "97"}, {"model.max_seq_len", "64"},
             {"memory.vanilla_mode", "true"}, {"attention.attention_variant", "causal"}})
      ASSERT_EQ(take(memtx_config_set(cfg_, key, value)), "ok") << key;
  }
  void TearDown() override {
    memtx_config_free(cfg_);
    memtx_context_free(ctx_);
  }
  // "ok" for NULL, else "<CODE>: <message>"; frees the status.
  static std::string take(memtx_status* st) {
    if (!st) return "ok";
    std::string text = std::string(memtx_status_code_name(memtx_status_get_code(st))) + ": " + memtx_status_message(st);
    memtx_status_free(st);
    return text;
  }
  memtx_context* ctx_ = nullptr;
  memtx_config* cfg_ = nullptr;
};

TEST_F(CApiDevice, ModelCreateOnCudaIsAConfigStatusWithoutCuda) {
  ASSERT_EQ(take(memtx_config_set(cfg_, "model.device", "cuda")), "ok");
  memtx_model* model = nullptr;
  memtx_status* st = memtx_model_create(ctx_, cfg_, &model);
  if (torch::cuda::is_available()) {
    ASSERT_EQ(take(st), "ok");
    char* json = nullptr;
    ASSERT_EQ(take(memtx_model_describe(model, &json)), "ok");
    EXPECT_NE(std::string(json).find("\"device\": \"cuda"), std::string::npos) << json;
    memtx_string_free(json);
    memtx_model_free(model);
    return;
  }
  ASSERT_NE(st, nullptr) << "memtx_model_create succeeded on 'cuda' without a CUDA device";
  EXPECT_EQ(memtx_status_get_code(st), MEMTX_CONFIG);
  const std::string message = memtx_status_message(st);
  EXPECT_NE(message.find("model.device"), std::string::npos) << message;
  memtx_status_free(st);
  EXPECT_EQ(model, nullptr);
}

}  // namespace
}  // namespace memtx::test::gpu
