// train/param_groups.cpp: sorting a model's parameters into optimizer groups (rules in param_groups.hpp).
#include "train/param_groups.hpp"

#include <algorithm>
#include <set>

namespace memtx::train {
namespace {

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

std::string last_component(const std::string& name) {
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

bool is_memory_name(const std::string& name) {
  return contains(name, ".memory.") || contains(name, "memory_bank") || name.rfind("memory.", 0) == 0;
}

// Group names in their fixed order.
const char* const kGroupOrder[] = {"lora", "infini_gates", "memory", "memory_no_decay", "no_decay", "base"};

}  // namespace

ParamGroupSettings param_group_settings(const Config& config) {
  ParamGroupSettings s;
  s.base_lr = config.get_float("training.base_model_lr");
  s.weight_decay = config.get_float("training.weight_decay");
  s.memory_lr = config.get_float("training.memory_lr");
  s.lora_lr = config.get_float("training.lora_lr");
  s.balance_lr = config.get_float("infini_attention.balance_factor_lr");
  return s;
}

bool is_no_decay(const std::string& name, const torch::Tensor& param, const ParamGroupSettings& settings) {
  if (param.dim() < 2) return true;
  const std::string leaf = last_component(name);
  return std::find(settings.no_decay_names.begin(), settings.no_decay_names.end(), leaf) !=
         settings.no_decay_names.end();
}

std::string classify_parameter(const std::string& name, const torch::Tensor& param,
                               const ParamGroupSettings& settings) {
  if (!param.requires_grad()) return "frozen";
  if (contains(name, "lora_")) return "lora";
  if (contains(name, "balance")) return "infini_gates";
  const bool no_decay = is_no_decay(name, param, settings);
  if (is_memory_name(name)) return no_decay ? "memory_no_decay" : "memory";
  return no_decay ? "no_decay" : "base";
}

std::vector<ParamGroup> build_param_groups(const torch::nn::Module& model, const ParamGroupSettings& settings) {
  std::vector<ParamGroup> groups;
  for (const char* group_name : kGroupOrder) {
    ParamGroup g;
    g.name = group_name;
    const std::string n = group_name;
    if (n == "lora") {
      g.lr = settings.lora_lr;
    } else if (n == "infini_gates") {
      g.lr = settings.balance_lr;
    } else if (n == "memory" || n == "memory_no_decay") {
      g.lr = settings.memory_lr;
      g.weight_decay = n == "memory" ? settings.weight_decay : 0.0;
    } else {
      g.lr = settings.base_lr;
      g.weight_decay = n == "base" ? settings.weight_decay : 0.0;
    }
    groups.push_back(std::move(g));
  }
  std::set<const void*> seen;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    const torch::Tensor& p = item.value();
    if (!seen.insert(p.unsafeGetTensorImpl()).second) continue;  // shared tensor: first name only
    const std::string group = classify_parameter(item.key(), p, settings);
    if (group == "frozen") continue;
    for (ParamGroup& g : groups) {
      if (g.name == group) {
        g.names.push_back(item.key());
        g.params.push_back(p);
        break;
      }
    }
  }
  groups.erase(std::remove_if(groups.begin(), groups.end(), [](const ParamGroup& g) { return g.params.empty(); }),
               groups.end());
  if (groups.empty())
    throw Error(StatusCode::InvalidArgument,
                "the model has no trainable parameter (every parameter has requires_grad false)");
  return groups;
}

std::vector<std::pair<std::string, torch::Tensor>> grouped_parameters(const std::vector<ParamGroup>& groups) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const ParamGroup& g : groups)
    for (size_t i = 0; i < g.params.size(); ++i) out.emplace_back(g.names[i], g.params[i]);
  return out;
}

}  // namespace memtx::train
