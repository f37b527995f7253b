// train/param_groups.hpp: the optimizer's parameter groups, each with its own peak learning rate and weight
// decay, built from a model's named parameters. A parameter goes to the first group whose rule matches:
//   group            rule                                              lr                                   weight decay
//   (left out)       requires_grad == false (frozen)                   -                                    -
//   lora             name contains "lora_"                             training.lora_lr                     0
//   <requested>      an attention layer asks for it                    the layer's lr                       0
//                    (AttentionModuleImpl::parameter_groups: infini's "balance" gates -> "infini_gates")
//   memory           name contains ".memory." or "memory_bank" (or     training.memory_lr                   training.weight_decay
//                    starts with "memory."), not no-decay
//   memory_no_decay  the same names, no-decay rule                     training.memory_lr                   0
//   no_decay         the no-decay rule                                 training.base_model_lr               0
//   base             everything else                                   training.base_model_lr               training.weight_decay
// No-decay rule: every parameter with dim() < 2 (norm gains, biases, scalar gates, per-head sink logits,
// Mamba's D), every parameter an attention layer names in no_decay_parameters() (ssm's 2-d A_log, sinks, learned
// score scales), and every parameter whose last name component is in settings.no_decay_names.
// A tensor shared under several names is put in one group once, under its first name. Empty groups are
// omitted; group order is the order above (lora first, then requested groups in the order layers ask for them).
#pragma once
#include <torch/torch.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "memtx/config.hpp"
#include "memtx/export.h"

namespace memtx::train {

struct ParamGroupSettings {
  double base_lr = 1e-5;        // training.base_model_lr
  double weight_decay = 0.01;   // training.weight_decay
  double memory_lr = 1e-4;      // training.memory_lr
  double lora_lr = 1e-4;        // training.lora_lr
  // Last name components that never get weight decay, whatever the tensor's shape, beyond those the model's
  // attention layers name themselves.
  std::vector<std::string> no_decay_names;
};

struct ParamGroup {
  std::string name;                 // "lora", a requested group, "memory", "memory_no_decay", "no_decay", "base"
  double lr = 0.0;                  // peak learning rate (the schedule scales it)
  double weight_decay = 0.0;
  std::vector<std::string> names;   // parameter names, in the model's order
  std::vector<torch::Tensor> params;  // the same parameters, index for index
};

// Reads the four keys above from a resolved config (no_decay_names stays empty).
MEMTX_API ParamGroupSettings param_group_settings(const Config& config);

// What the model's attention layers (AttentionModuleImpl, found among its submodules) ask for, by full
// parameter name: their own groups with a learning rate, and their no-decay parameters.
struct LayerRequests {
  std::map<std::string, std::string> group_of;    // "layers.0.attn.balance" -> "infini_gates"
  std::vector<std::pair<std::string, double>> groups;  // (group, lr) in the order first asked for
  std::set<std::string> no_decay;                 // full names
};
MEMTX_API LayerRequests layer_requests(const torch::nn::Module& model);

// The group a trainable parameter belongs to (one of the names above); "frozen" when !requires_grad.
MEMTX_API std::string classify_parameter(const std::string& name, const torch::Tensor& param,
                                         const ParamGroupSettings& settings, const LayerRequests& requests = {});

// True when the no-decay rule holds (dim < 2, named by its layer, or last component listed).
MEMTX_API bool is_no_decay(const std::string& name, const torch::Tensor& param, const ParamGroupSettings& settings,
                           const LayerRequests& requests = {});

// The groups of every trainable parameter of model (recursively). Throws Error(InvalidArgument) when the
// model has no trainable parameter.
MEMTX_API std::vector<ParamGroup> build_param_groups(const torch::nn::Module& model, const ParamGroupSettings& settings);

// Every (name, parameter) of the groups, in group order; what optimizer state and clipping work over.
MEMTX_API std::vector<std::pair<std::string, torch::Tensor>> grouped_parameters(const std::vector<ParamGroup>& groups);

}  // namespace memtx::train
