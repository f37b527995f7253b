// infer/eval_mode.hpp: a scope that runs a module in eval mode (dropout off) and gives it back its training
// mode on exit, also when an exception leaves the scope.
#pragma once
#include <torch/torch.h>

namespace memtx::infer {

class EvalModeGuard {
 public:
  explicit EvalModeGuard(torch::nn::Module& module) : module_(module), was_training_(module.is_training()) {
    module_.eval();
  }
  ~EvalModeGuard() {
    if (was_training_) module_.train(true);
  }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  torch::nn::Module& module_;
  bool was_training_;
};

}  // namespace memtx::infer
