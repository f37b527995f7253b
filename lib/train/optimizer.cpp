// train/optimizer.cpp: building torch::optim AdamW / Adam / SGD over the parameter groups.
#include "train/optimizer.hpp"

#include <tuple>

namespace memtx::train {

const char* optimizer_kind_name(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::AdamW: return "adamw";
    case OptimizerKind::Adam: return "adam";
    case OptimizerKind::Sgd: return "sgd";
  }
  return "adamw";
}

OptimizerKind parse_optimizer_kind(const std::string& name) {
  if (name == "adamw") return OptimizerKind::AdamW;
  if (name == "adam") return OptimizerKind::Adam;
  if (name == "sgd") return OptimizerKind::Sgd;
  throw Error(StatusCode::Config, "training.optimizer: unknown optimizer '" + name + "', expected adamw, adam or sgd");
}

OptimizerSettings optimizer_settings(const Config& config) {
  OptimizerSettings s;
  s.kind = parse_optimizer_kind(config.get_string("training.optimizer"));
  s.beta1 = config.get_float("training.adam_beta1");
  s.beta2 = config.get_float("training.adam_beta2");
  s.eps = config.get_float("training.adam_epsilon");
  return s;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<ParamGroup>& groups,
                                                        const OptimizerSettings& settings, EmptyGroups empty) {
  if (groups.empty()) throw Error(StatusCode::InvalidArgument, "make_optimizer: no parameter group");
  std::vector<torch::optim::OptimizerParamGroup> torch_groups;
  const auto betas = std::make_tuple(settings.beta1, settings.beta2);
  for (const ParamGroup& g : groups) {
    if (g.params.empty() && empty == EmptyGroups::Refused)
      throw Error(StatusCode::InvalidArgument, "make_optimizer: parameter group '" + g.name + "' is empty");
    std::unique_ptr<torch::optim::OptimizerOptions> options;
    switch (settings.kind) {
      case OptimizerKind::AdamW:
        options = std::make_unique<torch::optim::AdamWOptions>(
            torch::optim::AdamWOptions(g.lr).betas(betas).eps(settings.eps).weight_decay(g.weight_decay));
        break;
      case OptimizerKind::Adam:
        options = std::make_unique<torch::optim::AdamOptions>(
            torch::optim::AdamOptions(g.lr).betas(betas).eps(settings.eps).weight_decay(g.weight_decay));
        break;
      case OptimizerKind::Sgd:
        options = std::make_unique<torch::optim::SGDOptions>(
            torch::optim::SGDOptions(g.lr).momentum(settings.momentum).weight_decay(g.weight_decay));
        break;
    }
    torch_groups.emplace_back(g.params, std::move(options));
  }
  const double lr0 = groups.front().lr;
  switch (settings.kind) {
    case OptimizerKind::AdamW:
      return std::make_unique<torch::optim::AdamW>(
          std::move(torch_groups), torch::optim::AdamWOptions(lr0).betas(betas).eps(settings.eps));
    case OptimizerKind::Adam:
      return std::make_unique<torch::optim::Adam>(
          std::move(torch_groups), torch::optim::AdamOptions(lr0).betas(betas).eps(settings.eps));
    case OptimizerKind::Sgd:
      return std::make_unique<torch::optim::SGD>(std::move(torch_groups),
                                                 torch::optim::SGDOptions(lr0).momentum(settings.momentum));
  }
  throw Error(StatusCode::Internal, "make_optimizer: unhandled optimizer kind");
}

OptimizerKind optimizer_kind(const torch::optim::Optimizer& optimizer) {
  // AdamW first: it is not derived from Adam, but be explicit about the order anyway.
  if (dynamic_cast<const torch::optim::AdamW*>(&optimizer)) return OptimizerKind::AdamW;
  if (dynamic_cast<const torch::optim::Adam*>(&optimizer)) return OptimizerKind::Adam;
  if (dynamic_cast<const torch::optim::SGD*>(&optimizer)) return OptimizerKind::Sgd;
  throw Error(StatusCode::InvalidArgument, "optimizer is not torch::optim AdamW, Adam or SGD");
}

}  // namespace memtx::train
