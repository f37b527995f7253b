// A small model mixing causal attention and the ssm mixer ([causal, ssm], with and without MLPs) learns a
// repeat task with torch::optim::AdamW: every sequence is a random 4-token pattern repeated, and the loss on
// the repeats (predictable only by looking back) must fall well below the chance level ln(vocab). A_log and D
// are kept out of weight decay by their documented names, as a trainer should do.
#include <cmath>

#include "ssm_support.hpp"

namespace memtx::test {
namespace {

constexpr int64_t kVocab = 16, kPeriod = 4, kLength = 16;

// [batch, kLength]: a random pattern of kPeriod tokens, repeated.
torch::Tensor repeat_batch(int64_t batch, torch::Generator& gen) {
  auto pattern = torch::randint(0, kVocab, {batch, kPeriod}, gen, torch::TensorOptions().dtype(torch::kLong));
  return pattern.repeat({1, kLength / kPeriod});
}

// Cross-entropy of the predictions of the repeated part (targets at positions >= kPeriod).
torch::Tensor repeat_loss(TransformerImpl& model, const torch::Tensor& tokens) {
  auto logits = model.forward(tokens.narrow(1, 0, kLength - 1));
  auto predicted = logits.narrow(1, kPeriod - 1, kLength - kPeriod).reshape({-1, kVocab});
  auto targets = tokens.narrow(1, kPeriod, kLength - kPeriod).reshape({-1});
  return torch::nn::functional::cross_entropy(predicted, targets);
}

bool excluded_from_weight_decay(const std::string& name) {
  const std::string last = name.substr(name.rfind('.') + 1);
  return last == "A_log" || last == "D" || name.find("norm") != std::string::npos || last == "bias";
}

class SsmTraining : public ::testing::TestWithParam<bool> {};

TEST_P(SsmTraining, LossFallsOnARepeatTask) {
  const bool use_mlp = GetParam();
  Config c = tiny_config({"attention.attention_list=[causal, ssm]", std::string("model.use_mlp=") + (use_mlp ? "true" : "false"),
                          "model.vocab_size=16", "attention.ssm_conv_kernel_size=4", "model.seed=3"});
  Transformer model(c, plugin_registry());
  ASSERT_EQ(model->spec().layer_variants, (std::vector<std::string>{"causal", "ssm"}));
  ASSERT_EQ(static_cast<bool>(model->blocks[1]->mlp), use_mlp);

  std::vector<torch::Tensor> decay, no_decay;
  std::vector<std::string> no_decay_names;
  for (const auto& p : model->named_parameters()) {
    if (excluded_from_weight_decay(p.key())) {
      no_decay.push_back(p.value());
      no_decay_names.push_back(p.key());
    } else {
      decay.push_back(p.value());
    }
  }
  for (const char* name : {"layers.1.attn.A_log", "layers.1.attn.D"}) {
    EXPECT_NE(std::find(no_decay_names.begin(), no_decay_names.end(), name), no_decay_names.end()) << name;
  }
  auto options = [](double wd) {
    auto o = std::make_unique<torch::optim::AdamWOptions>(1e-2);
    o->weight_decay(wd);
    return o;
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, options(0.1));
  groups.emplace_back(no_decay, options(0.0));
  torch::optim::AdamW optimizer(std::move(groups), torch::optim::AdamWOptions(1e-2));

  auto gen = torch::make_generator<torch::CPUGeneratorImpl>(42);
  auto held_out = repeat_batch(64, gen);
  auto eval = [&] {
    torch::NoGradGuard guard;
    model->eval();
    const double loss = repeat_loss(*model, held_out).item<double>();
    model->train();
    return loss;
  };
  const double before = eval();
  for (int step = 0; step < 150; ++step) {
    optimizer.zero_grad();
    auto loss = repeat_loss(*model, repeat_batch(32, gen));
    loss.backward();
    optimizer.step();
  }
  const double after = eval();
  std::cout << "[ssm training] use_mlp=" << use_mlp << " held-out loss " << before << " -> " << after
            << " (chance " << std::log(double(kVocab)) << ")\n";
  EXPECT_NEAR(before, std::log(double(kVocab)), 0.3);
  EXPECT_LT(after, 0.5 * before);
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutMlp, SsmTraining, ::testing::Bool());

}  // namespace
}  // namespace memtx::test
