// tests/train/train_support.hpp: tiny models, a language-model loss, batches and scratch folders for the
// trainer tests (plugins come from the build tree, as in tests/model).
#pragma once
#include <gtest/gtest.h>
#include <ATen/CPUGeneratorImpl.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

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

// A scratch folder removed at the end of the test.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (std::filesystem::temp_directory_path() /
             ("memtx_train_" + tag + "_" + std::string(info ? info->name() : "x") + "_" + std::to_string(::getpid())))
                .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (std::filesystem::path(path_) / name).string(); }

 private:
  std::string path_;
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
