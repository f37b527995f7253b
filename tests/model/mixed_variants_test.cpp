// A model mixing every registered variant family (attention_list causal ssm mla co4): builds, is causal,
// trains (loss falls on a repeat task), and saves/loads through safetensors with identical logits.
#include <filesystem>

#include "io/safetensors.hpp"
#include "test_support.hpp"

namespace memtx::test {
namespace {

Config mixed_config() {
  return tiny_config({"model.num_layers=4", "attention.attention_list=[causal, ssm, mla, co4]",
                      "attention.mla_latent_dim=8", "attention.mla_rotary_dim=4", "attention.n_latent=2"});
}

TEST(MixedVariants, BuildsCausalAndReportsEachLayer) {
  for (const char* v : {"ssm", "mla", "co4"}) {
    if (!plugin_registry().find(v)) GTEST_SKIP() << "variant " << v << " not built";
  }
  Transformer model(mixed_config(), plugin_registry());
  model->eval();
  torch::NoGradGuard guard;
  auto tokens = torch::randint(0, 97, {2, 10}, torch::kLong);
  auto logits = model->forward(tokens);
  auto changed = tokens.clone();
  changed.narrow(1, 6, 4).random_(0, 97);
  EXPECT_LT(max_abs_diff(logits.narrow(1, 0, 6), model->forward(changed).narrow(1, 0, 6)), 1e-5);
  EXPECT_EQ(model->spec().layer_variants, (std::vector<std::string>{"causal", "ssm", "mla", "co4"}));
}

TEST(MixedVariants, TrainsAndRoundTripsThroughSafetensors) {
  for (const char* v : {"ssm", "mla", "co4"}) {
    if (!plugin_registry().find(v)) GTEST_SKIP() << "variant " << v << " not built";
  }
  Transformer model(mixed_config(), plugin_registry());
  model->train();
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(3e-3));
  // Repeat task: a random 8-token pattern written twice; the second half is predictable from the first.
  torch::manual_seed(3);
  auto loss_on = [&](const torch::Tensor& seq) {
    auto logits = model->forward(seq.narrow(1, 0, 15));
    return torch::nn::functional::cross_entropy(logits.reshape({-1, 97}), seq.narrow(1, 1, 15).reshape({-1}));
  };
  auto batch = [] {
    auto half = torch::randint(0, 12, {8, 8}, torch::kLong);  // alphabet of 12: ln 12 = 2.48 without context
    return torch::cat({half, half}, 1);
  };
  auto probe = batch();
  const double first = loss_on(probe).item<double>();
  for (int step = 0; step < 400; ++step) {
    opt.zero_grad();
    auto loss = loss_on(batch());
    loss.backward();
    opt.step();
  }
  const double last = loss_on(probe).item<double>();
  EXPECT_LT(last, first - 1.5) << "loss " << first << " -> " << last;
  EXPECT_LT(last, 2.2) << "below ln 12 = 2.48 only by copying from the first half";
  std::cout << "[mixed] loss " << first << " -> " << last << "\n";

  model->eval();
  torch::NoGradGuard guard;
  auto tokens = torch::randint(0, 97, {1, 12}, torch::kLong);
  auto before = model->forward(tokens);
  const auto path = (std::filesystem::temp_directory_path() / ("memtx_mixed_" + std::to_string(::getpid()) + ".safetensors")).string();
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& p : model->named_parameters()) tensors.emplace_back(p.key(), p.value());
  io::write_safetensors(path, tensors);
  Config other = mixed_config();
  other.set("model.seed", int64_t{77});
  Transformer fresh(other, plugin_registry());
  fresh->eval();
  EXPECT_GT(max_abs_diff(fresh->forward(tokens), before), 1e-4);
  auto file = io::read_safetensors(path);
  auto params = fresh->named_parameters();
  for (const auto& [name, tensor] : file.tensors) params[name].copy_(tensor);
  EXPECT_LT(max_abs_diff(fresh->forward(tokens), before), 1e-6);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace memtx::test
