// tests/train/train_support.hpp: tiny models, a language-model loss, batches and scratch folders for the
// trainer tests (plugins come from the build tree, as in tests/model).
#pragma once
#include <gtest/gtest.h>
#include <ATen/CPUGeneratorImpl.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/temp_dir.hpp"
#include "model/test_support.hpp"
#include "train/param_groups.hpp"

namespace memtx::test {

inline Transformer tiny_model(const std::vector<std::string>& overrides = {}) {
  return Transformer(tiny_config(overrides), plugin_registry());
}

// Next-token cross-entropy, mean over every predicted position: tokens [B, T] -> scalar.
inline torch::Tensor lm_loss(Transformer& model, const torch::Tensor& tokens) {
  auto logits = model->forward(tokens);
  const int64_t t = tokens.size(1);
  auto predicted = logits.narrow(1, 0, t - 1).reshape({-1, logits.size(2)});
  auto target = tokens.narrow(1, 1, t - 1).reshape({-1});
  return torch::nn::functional::cross_entropy(predicted, target);
}

// A fixed batch for (seed, index): the same tokens on every call.
inline torch::Tensor fixed_batch(int64_t index, int64_t batch = 2, int64_t len = 10, int64_t vocab = 97) {
  auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(1000 + index));
  return torch::randint(0, vocab, {batch, len}, gen, torch::kLong);
}

// A scratch folder removed at the end of the test (common/temp_dir.hpp), with string paths.
class ScratchDir : public memtx_test::TempDir {
 public:
  explicit ScratchDir(const std::string& tag) : TempDir(tag) {}
  std::string path() const { return TempDir::path().string(); }
  std::string operator/(const std::string& name) const { return (TempDir::path() / name).string(); }
};

inline bool same_parameters(const torch::nn::Module& a, const torch::nn::Module& b) {
  auto pa = a.named_parameters();
  auto pb = b.named_parameters();
  if (pa.size() != pb.size()) return false;
  for (const auto& item : pa) {
    const torch::Tensor* other = pb.find(item.key());
    if (!other || !torch::equal(item.value(), *other)) return false;
  }
  return true;
}

}  // namespace memtx::test
