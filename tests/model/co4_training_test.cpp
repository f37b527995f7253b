// Training through co4: gradients reach every parameter (both forms), and a model mixing causal and co4 layers
// learns a synthetic repeat task with AdamW.
#include <torch/torch.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace memtx::test {
namespace {

TEST(Co4Training, GradientsReachEveryParameter) {
  for (const char* causal : {"true", "false"}) {
    Config cfg = tiny_config({std::string("attention.co4_causal=") + causal, "attention.triadic_loops=2"});
    torch::manual_seed(3);
    auto m = plugin_registry().create("co4", attention_spec(cfg, "co4"));
    m->reset_parameters(0.1);
    AttentionContext ctx;
    auto y = m->forward(torch::randn({2, 5, 32}), ctx);
    (y * torch::randn_like(y)).sum().backward();
    auto params = m->named_parameters();
    for (const char* name : {"latent_queries", "q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight"}) {
      const auto& grad = params[name].grad();
      ASSERT_TRUE(grad.defined()) << name << " causal " << causal;
      EXPECT_TRUE(torch::isfinite(grad).all().item<bool>()) << name;
      EXPECT_GT(grad.abs().sum().item<double>(), 1e-8) << name << " causal " << causal;
    }
  }
}

// Sequences of 6 random tokens from a 12-token alphabet, repeated three times; the loss is taken where the
// next token is a repeat (positions 5 .. 16 predicting 6 .. 17).
torch::Tensor repeat_batch(int64_t batch) {
  auto pattern = torch::randint(0, 12, {batch, 6}, torch::kLong);
  return torch::cat({pattern, pattern, pattern}, 1);
}

double repeat_loss_value(Transformer& model, const torch::Tensor& tokens, torch::Tensor* loss_out) {
  auto logits = model->forward(tokens);
  auto predicted = logits.narrow(1, 5, 12).reshape({-1, logits.size(2)});
  auto target = tokens.narrow(1, 6, 12).reshape({-1});
  auto loss = torch::nn::functional::cross_entropy(predicted, target);
  if (loss_out) *loss_out = loss;
  return loss.item<double>();
}

TEST(Co4Training, MixedCausalCo4ModelLearnsRepeatTask) {
  Transformer model(tiny_config({"attention.attention_list=[causal, co4]", "model.seed=4"}), plugin_registry());
  auto layers = nlohmann::json::parse(model->describe_json())["layers"];
  ASSERT_EQ(layers[1]["variant"], "co4");
  auto latents_before = model->named_parameters()["layers.1.attn.latent_queries"].detach().clone();
  torch::manual_seed(9);
  const auto held_out = repeat_batch(64);
  model->eval();
  double before;
  {
    torch::NoGradGuard guard;
    before = repeat_loss_value(model, held_out, nullptr);
  }
  model->train();
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-2).weight_decay(0.01));
  for (int step = 0; step < 80; ++step) {
    torch::Tensor loss;
    repeat_loss_value(model, repeat_batch(16), &loss);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  }
  model->eval();
  torch::NoGradGuard guard;
  const double after = repeat_loss_value(model, held_out, nullptr);
  EXPECT_LT(after, 0.7 * before) << "before " << before << " after " << after;
  // Below log(12), the loss of knowing only the alphabet: the model uses the repeat.
  EXPECT_LT(after, std::log(12.0)) << "before " << before << " after " << after;
  EXPECT_GT(max_abs_diff(model->named_parameters()["layers.1.attn.latent_queries"], latents_before), 1e-4);
}

}  // namespace
}  // namespace memtx::test
