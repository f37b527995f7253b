// Gradient checkpointing: the same loss and gradients as the plain backward pass, with dropout (the random
// masks are replayed) and under bf16 autocast (the recomputation runs in the dtypes of the first pass).
#include "memtx/torch_compat.hpp"
#include "model/grad_checkpoint.hpp"
#include "test_support.hpp"

namespace memtx::test {
namespace {

std::map<std::string, torch::Tensor> loss_and_grads(Transformer& model, const torch::Tensor& tokens, bool recompute,
                                                    bool autocast) {
  model->set_gradient_checkpointing(recompute);
  model->train();
  model->zero_grad();
  torch::manual_seed(7);
  if (autocast) compat::set_autocast(c10::DeviceType::CPU, true, torch::kBFloat16);
  auto logits = model->forward(tokens);
  if (autocast) {
    compat::set_autocast(c10::DeviceType::CPU, false, torch::kFloat32);
    at::autocast::clear_cache();
  }
  auto loss = logits.to(torch::kFloat32).log_softmax(-1).mean();
  loss.backward();
  std::map<std::string, torch::Tensor> out{{"loss", loss.detach()}};
  for (const auto& p : model->named_parameters()) out[p.key()] = p.value().grad().clone();
  return out;
}

void expect_same(bool autocast, double tolerance) {
  Transformer model(tiny_config({"model.dropout=0.2", "model.attention_dropout=0.1"}), plugin_registry());
  auto tokens = torch::randint(0, 97, {2, 12}, torch::kLong);
  const auto plain = loss_and_grads(model, tokens, false, autocast);
  const auto recomputed = loss_and_grads(model, tokens, true, autocast);
  ASSERT_EQ(plain.size(), recomputed.size());
  for (const auto& [name, value] : plain) {
    ASSERT_TRUE(recomputed.at(name).defined()) << name;
    EXPECT_LE(max_abs_diff(value, recomputed.at(name)), tolerance) << name;
  }
  EXPECT_GT(plain.at("layers.0.attn.q_proj.weight").abs().sum().item<double>(), 0.0);
}

TEST(GradientCheckpointing, SameLossAndGradientsWithDropout) { expect_same(false, 1e-7); }

TEST(GradientCheckpointing, SameUnderBf16Autocast) { expect_same(true, 1e-6); }

TEST(GradientCheckpointing, OffInEvalModeAndWithoutGradients) {
  Transformer model(tiny_config(), plugin_registry());
  model->set_gradient_checkpointing(true);
  model->eval();
  auto tokens = torch::randint(0, 97, {1, 6}, torch::kLong);
  auto a = model->forward(tokens);
  model->set_gradient_checkpointing(false);
  EXPECT_TRUE(torch::equal(a, model->forward(tokens)));
}

}  // namespace
}  // namespace memtx::test
