// Gradient accumulation: k micro-batches of b sequences, each loss scaled by 1/k and back-propagated in
// turn, give the gradients of one batch of k*b sequences (mean loss over equal-length sequences):
//   grad(mean over k*b) = sum_i (1/k) * grad(mean over micro-batch i).
// The trainer relies on this to make gradient_accumulation_steps invisible to the optimizer.
#include "train_support.hpp"

namespace memtx::test {
namespace {

std::map<std::string, torch::Tensor> grads_of(Transformer& model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : model->named_parameters())
    out[item.key()] = item.value().grad().defined() ? item.value().grad().clone() : torch::Tensor();
  return out;
}

void zero_grads(Transformer& model) {
  for (auto& p : model->parameters())
    if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
}

void check_equivalence(const std::vector<std::string>& overrides) {
  const int64_t k = 4, b = 2, len = 12;
  Transformer model = tiny_model(overrides);
  const torch::Tensor batch = fixed_batch(3, k * b, len);

  zero_grads(model);
  lm_loss(model, batch).backward();
  const auto full = grads_of(model);

  zero_grads(model);
  for (int64_t i = 0; i < k; ++i) (lm_loss(model, batch.narrow(0, i * b, b)) / static_cast<double>(k)).backward();
  const auto accumulated = grads_of(model);

  ASSERT_EQ(full.size(), accumulated.size());
  size_t compared = 0;
  for (const auto& [name, g] : full) {
    ASSERT_TRUE(g.defined()) << name << " has no gradient";
    const torch::Tensor& a = accumulated.at(name);
    ASSERT_TRUE(a.defined()) << name;
    EXPECT_LE(max_abs_diff(g, a), 1e-6) << name;
    ++compared;
  }
  EXPECT_GT(compared, 10u);
}

TEST(GradientAccumulation, MicroBatchesScaledByOneOverKEqualTheFullBatch) { check_equivalence({}); }

TEST(GradientAccumulation, AlsoWithPluginScalars) {
  check_equivalence({"attention.use_qk_norm=true", "attention.use_qk_norm_scale=true", "attention.use_flash_lobo=true"});
}

}  // namespace
}  // namespace memtx::test
