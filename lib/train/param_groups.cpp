// train/param_groups.cpp: sorting a model's parameters into optimizer groups (rules in param_groups.hpp).
#include "train/param_groups.hpp"

#include "memtx/attention.hpp"

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

// The host's groups in their fixed order; the layers' requested groups come right after "lora".
const char* const kGroupOrder[] = {"lora", "memory", "memory_no_decay", "no_decay", "base"};

}  // namespace

ParamGroupSettings param_group_settings(const Config& config) {
  ParamGroupSettings s;
  s.base_lr = config.get_float("training.base_model_lr");
  s.weight_decay = config.get_float("training.weight_decay");
  s.memory_lr = config.get_float("training.memory_lr");
  s.lora_lr = config.get_float("training.lora_lr");
  return s;
}

LayerRequests layer_requests(const torch::nn::Module& model) {
  LayerRequests out;
  for (const auto& item : model.named_modules(/*name_prefix=*/"", /*include_self=*/true)) {
    const auto* layer = dynamic_cast<const AttentionModuleImpl*>(item.value().get());
    if (!layer) continue;
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto& request : layer->parameter_groups()) {
      auto known = std::find_if(out.groups.begin(), out.groups.end(),
                                [&](const auto& g) { return g.first == request.group; });
      if (known == out.groups.end()) out.groups.emplace_back(request.group, request.lr);
      for (const auto& name : request.parameters) out.group_of[prefix + name] = request.group;
    }
    for (const auto& name : layer->no_decay_parameters()) out.no_decay.insert(prefix + name);
  }
  return out;
}

bool is_no_decay(const std::string& name, const torch::Tensor& param, const ParamGroupSettings& settings,
                 const LayerRequests& requests) {
  if (param.dim() < 2 || requests.no_decay.count(name)) return true;
  const std::string leaf = last_component(name);
  return std::find(settings.no_decay_names.begin(), settings.no_decay_names.end(), leaf) !=
         settings.no_decay_names.end();
}

std::string classify_parameter(const std::string& name, const torch::Tensor& param,
                               const ParamGroupSettings& settings, const LayerRequests& requests) {
  if (!param.requires_grad()) return "frozen";
  if (contains(name, "lora_")) return "lora";
  if (auto it = requests.group_of.find(name); it != requests.group_of.end()) return it->second;
  const bool no_decay = is_no_decay(name, param, settings, requests);
  if (is_memory_name(name)) return no_decay ? "memory_no_decay" : "memory";
  return no_decay ? "no_decay" : "base";
}

std::vector<ParamGroup> build_param_groups(const torch::nn::Module& model, const ParamGroupSettings& settings) {
  const LayerRequests requests = layer_requests(model);
  std::vector<ParamGroup> groups;
  for (const char* group_name : kGroupOrder) {
    ParamGroup g;
    g.name = group_name;
    const std::string n = group_name;
    if (n == "lora") {
      g.lr = settings.lora_lr;
    } else if (n == "memory" || n == "memory_no_decay") {
      g.lr = settings.memory_lr;
      g.weight_decay = n == "memory" ? settings.weight_decay : 0.0;
    } else {
      g.lr = settings.base_lr;
      g.weight_decay = n == "base" ? settings.weight_decay : 0.0;
    }
    groups.push_back(std::move(g));
    if (n != "lora") continue;
    for (const auto& [name, lr] : requests.groups) {  // the layers' own groups, no weight decay
      const std::string& requested_name = name;  // a lambda may not capture a structured binding before C++20
      if (std::any_of(groups.begin(), groups.end(), [&](const ParamGroup& x) { return x.name == requested_name; }))
        throw Error(StatusCode::Plugin, "an attention layer asks for a parameter group named '" + name +
                                            "', which is one of memtx's own");
      ParamGroup requested;
      requested.name = name;
      requested.lr = lr;
      groups.push_back(std::move(requested));
    }
  }
  std::set<const void*> seen;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    const torch::Tensor& p = item.value();
    if (!seen.insert(p.unsafeGetTensorImpl()).second) continue;  // shared tensor: first name only
    const std::string group = classify_parameter(item.key(), p, settings, requests);
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
