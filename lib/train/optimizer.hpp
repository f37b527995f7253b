// train/optimizer.hpp: the optimizer over the parameter groups (torch::optim), one option set per group.
//   adamw: decoupled decay   p <- p - lr*wd*p, then Adam's update (torch::optim::AdamW)
//          m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*g^2;  p <- p - lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)
//   adam:  the same update with L2 decay folded into the gradient, g <- g + wd*p (torch::optim::Adam)
//   sgd:   g <- g + wd*p;  buf <- momentum*buf + g (when momentum > 0);  p <- p - lr*buf (torch::optim::SGD)
// b1, b2, eps are training.adam_beta1/adam_beta2/adam_epsilon; lr and wd come from each group. The
// configuration has no SGD momentum key, so SGD runs with momentum 0 unless OptimizerSettings says otherwise.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "memtx/config.hpp"
#include "memtx/export.h"
#include "train/param_groups.hpp"

namespace memtx::train {

enum class OptimizerKind { AdamW, Adam, Sgd };

MEMTX_API const char* optimizer_kind_name(OptimizerKind kind);  // "adamw", "adam", "sgd"
// Error(Config) naming training.optimizer for any other text.
MEMTX_API OptimizerKind parse_optimizer_kind(const std::string& name);

struct OptimizerSettings {
  OptimizerKind kind = OptimizerKind::AdamW;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double momentum = 0.0;  // SGD only
};

// training.optimizer, adam_beta1, adam_beta2, adam_epsilon.
MEMTX_API OptimizerSettings optimizer_settings(const Config& config);

enum class EmptyGroups { Refused, Allowed };  // Allowed: a sharded optimizer's rank may hold no piece of a group

// One torch param group per ParamGroup, in the same order, with the group's lr and weight decay.
// Error(InvalidArgument) when groups is empty, or one group is and empty ones are refused.
MEMTX_API std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<ParamGroup>& groups,
                                                                  const OptimizerSettings& settings,
                                                                  EmptyGroups empty = EmptyGroups::Refused);

// Which of the three an optimizer is; Error(InvalidArgument) for another torch optimizer.
MEMTX_API OptimizerKind optimizer_kind(const torch::optim::Optimizer& optimizer);

}  // namespace memtx::train
