// A model mixing causal and mla layers learns a synthetic repeat task (a random pattern of 6 tokens
// repeated): with AdamW the loss on the predictable positions falls well below its starting value, and
// the mla layer's parameters receive gradients and move.
#include "mla_reference.hpp"

namespace memtx::test::mla {
namespace {

constexpr int64_t kPeriod = 6, kLength = 24, kVocab = 97;

torch::Tensor repeat_batch(int64_t batch) {
  auto pattern = torch::randint(2, kVocab, {batch, kPeriod}, torch::kLong);
  return pattern.repeat({1, kLength / kPeriod});
}

// Next-token cross-entropy on the positions whose next token is a repetition (t >= kPeriod - 1).
torch::Tensor repeat_loss(Transformer& model, const torch::Tensor& tokens) {
  auto logits = model->forward(tokens.narrow(1, 0, kLength - 1));
  auto targets = tokens.narrow(1, 1, kLength - 1);
  const int64_t from = kPeriod - 1, n = kLength - 1 - from;
  return torch::nn::functional::cross_entropy(logits.narrow(1, from, n).reshape({-1, kVocab}), targets.narrow(1, from, n).reshape({-1}));
}

TEST(MlaTraining, CausalPlusMlaLearnsARepeatTask) {
  Config cfg = tiny_config({"attention.attention_list=[causal, mla]", "model.num_layers=2", "model.hidden_dim=64",
                            "model.num_heads=4", "model.intermediate_dim=128", "model.tie_embeddings=false",
                            "attention.mla_q_lora_rank=32", "attention.mla_rotary_dim=8", "attention.mla_latent_dim=16",
                            "model.max_seq_len=32", "model.seed=3"});
  Transformer model(cfg, plugin_registry());
  ASSERT_EQ(model->spec().layer_variants, (std::vector<std::string>{"causal", "mla"}));
  torch::manual_seed(5);
  auto eval_tokens = repeat_batch(32);
  double initial;
  {
    torch::NoGradGuard guard;
    initial = repeat_loss(model, eval_tokens).item<double>();
  }
  auto mla_before = params_of(*model->blocks[1]->attn);
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(3e-3).weight_decay(0.01));
  model->train();
  for (int step = 0; step < 150; ++step) {
    optimizer.zero_grad();
    auto loss = repeat_loss(model, repeat_batch(16));
    loss.backward();
    if (step == 0) {
      for (const auto& kv : model->blocks[1]->attn->named_parameters()) {
        ASSERT_TRUE(kv.value().grad().defined()) << kv.key();
        EXPECT_GT(kv.value().grad().abs().max().item<double>(), 0.0) << kv.key();
      }
    }
    optimizer.step();
  }
  model->eval();
  double final_loss;
  {
    torch::NoGradGuard guard;
    final_loss = repeat_loss(model, eval_tokens).item<double>();
  }
  std::cout << "[mla training] repeat-task loss " << initial << " -> " << final_loss << "\n";
  EXPECT_LT(final_loss, 0.5 * initial);
  for (const auto& [name, before] : mla_before) {
    EXPECT_GT(max_abs_diff(model->blocks[1]->attn->named_parameters()[name], before), 1e-4) << name;
  }
}

}  // namespace
}  // namespace memtx::test::mla
