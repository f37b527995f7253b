// train/optimizer_state.cpp: torch optimizer state <-> tensors named "<param>.<field>" (see the header).
#include "train/optimizer_state.hpp"

#include <set>
#include <sstream>
#include <type_traits>

#include "train/optimizer.hpp"

namespace memtx::train {
namespace {

constexpr const char* kFormat = "memtx-optimizer-state-1";

// torch::optim keys its state by the parameter's TensorImpl: LibTorch 1.x as the pointer's text
// (c10::guts::to_string, i.e. ostream << pointer), 2.x as the void* itself. Deduced from the map's key type.
template <class Map>
typename Map::key_type state_key(const Map& /*state*/, const torch::Tensor& param) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream os;
    os << static_cast<const void*>(param.unsafeGetTensorImpl());
    return os.str();
  } else {
    return static_cast<Key>(param.unsafeGetTensorImpl());
  }
}

struct Slot {  // one grouped parameter
  std::string name;
  torch::Tensor param;
  size_t group = 0;
};

std::vector<Slot> slots_of(const torch::optim::Optimizer& optimizer, const std::vector<ParamGroup>& groups) {
  if (optimizer.param_groups().size() != groups.size())
    throw Error(StatusCode::InvalidArgument, "optimizer has " + std::to_string(optimizer.param_groups().size()) +
                                                 " parameter groups but " + std::to_string(groups.size()) +
                                                 " groups were given");
  std::vector<Slot> slots;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (optimizer.param_groups()[g].params().size() != groups[g].params.size())
      throw Error(StatusCode::InvalidArgument,
                  "optimizer parameter group " + std::to_string(g) + " does not match group '" + groups[g].name + "'");
    for (size_t i = 0; i < groups[g].params.size(); ++i) slots.push_back({groups[g].names[i], groups[g].params[i], g});
  }
  return slots;
}

bool is_adam(OptimizerKind kind) { return kind == OptimizerKind::AdamW || kind == OptimizerKind::Adam; }

bool amsgrad(const torch::optim::Optimizer& optimizer, size_t group, OptimizerKind kind) {
  const auto& options = optimizer.param_groups()[group].options();
  if (kind == OptimizerKind::AdamW) return static_cast<const torch::optim::AdamWOptions&>(options).amsgrad();
  if (kind == OptimizerKind::Adam) return static_cast<const torch::optim::AdamOptions&>(options).amsgrad();
  return false;
}

std::vector<std::string> required_fields(OptimizerKind kind, bool with_amsgrad) {
  if (!is_adam(kind)) return {"momentum_buffer"};
  std::vector<std::string> f = {"step", "exp_avg", "exp_avg_sq"};
  if (with_amsgrad) f.push_back("max_exp_avg_sq");
  return f;
}

bool known_field(OptimizerKind kind, const std::string& field) {
  if (is_adam(kind)) return field == "step" || field == "exp_avg" || field == "exp_avg_sq" || field == "max_exp_avg_sq";
  return field == "momentum_buffer";
}

[[noreturn]] void bad(const std::string& origin, const std::string& what) {
  throw Error(StatusCode::Io, origin + ": optimizer state: " + what);
}

// Validated view: per slot index, field -> tensor.
using Found = std::vector<std::map<std::string, torch::Tensor>>;

Found validate(const torch::optim::Optimizer& optimizer, const std::vector<Slot>& slots, const NamedTensors& tensors,
               const std::map<std::string, std::string>& metadata, const std::string& origin) {
  const OptimizerKind kind = optimizer_kind(optimizer);
  auto meta = metadata.find("optimizer");
  if (meta == metadata.end()) bad(origin, "no 'optimizer' entry in the metadata");
  if (meta->second != optimizer_kind_name(kind))
    throw Error(StatusCode::Config, origin + ": the optimizer state was written by '" + meta->second +
                                        "' but training.optimizer is '" + optimizer_kind_name(kind) + "'");
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < slots.size(); ++i) index.emplace(slots[i].name, i);
  Found found(slots.size());
  for (const auto& [name, tensor] : tensors) {
    const size_t dot = name.rfind('.');
    const std::string param = dot == std::string::npos ? "" : name.substr(0, dot);
    const std::string field = dot == std::string::npos ? name : name.substr(dot + 1);
    auto it = index.find(param);
    if (it == index.end())
      bad(origin, "unknown tensor '" + name + "': '" + param + "' is not a trainable parameter of the model");
    if (!known_field(kind, field))
      bad(origin, "unknown tensor '" + name + "': '" + field + "' is not a field of " + optimizer_kind_name(kind) +
                      " state");
    const Slot& slot = slots[it->second];
    if (field == "step") {
      if (tensor.scalar_type() != torch::kLong || tensor.numel() != 1)
        bad(origin, "tensor '" + name + "' must be one I64 value");
      if (tensor.item<int64_t>() < 1)
        bad(origin, "tensor '" + name + "' holds step " + std::to_string(tensor.item<int64_t>()) + ", expected >= 1");
    } else {
      if (!torch::isFloatingType(tensor.scalar_type()))
        bad(origin, "tensor '" + name + "' is not a floating-point tensor");
      if (tensor.sizes() != slot.param.sizes())
        bad(origin, "tensor '" + name + "' has shape " + c10::str(tensor.sizes()) + " but parameter '" + slot.name +
                        "' has shape " + c10::str(slot.param.sizes()));
    }
    found[it->second][field] = tensor;
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    if (found[i].empty()) continue;
    for (const std::string& field : required_fields(kind, amsgrad(optimizer, slots[i].group, kind)))
      if (!found[i].count(field))
        bad(origin, "tensor '" + slots[i].name + "." + field + "' is missing (the file has '" + slots[i].name + "." +
                        found[i].begin()->first + "')");
  }
  return found;
}

torch::Tensor like_param(const torch::Tensor& t, const torch::Tensor& param) {
  return t.to(param.device(), param.scalar_type(), /*non_blocking=*/false, /*copy=*/true);
}

}  // namespace

NamedTensors optimizer_state_tensors(const torch::optim::Optimizer& optimizer, const std::vector<ParamGroup>& groups) {
  const OptimizerKind kind = optimizer_kind(optimizer);
  const auto& state = optimizer.state();
  NamedTensors out;
  for (const Slot& slot : slots_of(optimizer, groups)) {
    auto it = state.find(state_key(state, slot.param));
    if (it == state.end()) continue;
    const std::string& n = slot.name;
    if (kind == OptimizerKind::AdamW) {
      const auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
      out.emplace_back(n + ".step", torch::tensor(s.step(), torch::kLong));
      out.emplace_back(n + ".exp_avg", s.exp_avg().detach());
      out.emplace_back(n + ".exp_avg_sq", s.exp_avg_sq().detach());
      if (s.max_exp_avg_sq().defined()) out.emplace_back(n + ".max_exp_avg_sq", s.max_exp_avg_sq().detach());
    } else if (kind == OptimizerKind::Adam) {
      const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
      out.emplace_back(n + ".step", torch::tensor(s.step(), torch::kLong));
      out.emplace_back(n + ".exp_avg", s.exp_avg().detach());
      out.emplace_back(n + ".exp_avg_sq", s.exp_avg_sq().detach());
      if (s.max_exp_avg_sq().defined()) out.emplace_back(n + ".max_exp_avg_sq", s.max_exp_avg_sq().detach());
    } else {
      const auto& s = static_cast<const torch::optim::SGDParamState&>(*it->second);
      if (s.momentum_buffer().defined()) out.emplace_back(n + ".momentum_buffer", s.momentum_buffer().detach());
    }
  }
  return out;
}

int64_t optimizer_state_bytes(const torch::optim::Optimizer& optimizer, const std::vector<ParamGroup>& groups) {
  int64_t bytes = 0;
  for (const auto& [name, t] : optimizer_state_tensors(optimizer, groups)) bytes += static_cast<int64_t>(t.nbytes());
  return bytes;
}

std::map<std::string, std::string> optimizer_state_metadata(const torch::optim::Optimizer& optimizer) {
  return {{"optimizer", optimizer_kind_name(optimizer_kind(optimizer))}, {"format", kFormat}};
}

void check_optimizer_state(const torch::optim::Optimizer& optimizer, const std::vector<ParamGroup>& groups,
                           const NamedTensors& tensors, const std::map<std::string, std::string>& metadata,
                           const std::string& origin) {
  validate(optimizer, slots_of(optimizer, groups), tensors, metadata, origin);
}

void restore_optimizer_state(torch::optim::Optimizer& optimizer, const std::vector<ParamGroup>& groups,
                             const NamedTensors& tensors, const std::map<std::string, std::string>& metadata,
                             const std::string& origin) {
  const std::vector<Slot> slots = slots_of(optimizer, groups);
  const Found found = validate(optimizer, slots, tensors, metadata, origin);
  const OptimizerKind kind = optimizer_kind(optimizer);
  auto& state = optimizer.state();
  for (size_t i = 0; i < slots.size(); ++i) {
    const torch::Tensor& p = slots[i].param;
    const auto key = state_key(state, p);
    state.erase(key);
    const auto& f = found[i];
    if (f.empty()) continue;
    auto get = [&](const char* field) {
      auto it = f.find(field);
      return it == f.end() ? torch::Tensor() : like_param(it->second, p);
    };
    if (kind == OptimizerKind::AdamW) {
      auto s = std::make_unique<torch::optim::AdamWParamState>();
      s->step(f.at("step").item<int64_t>());
      s->exp_avg(get("exp_avg"));
      s->exp_avg_sq(get("exp_avg_sq"));
      s->max_exp_avg_sq(get("max_exp_avg_sq"));
      state[key] = std::move(s);
    } else if (kind == OptimizerKind::Adam) {
      auto s = std::make_unique<torch::optim::AdamParamState>();
      s->step(f.at("step").item<int64_t>());
      s->exp_avg(get("exp_avg"));
      s->exp_avg_sq(get("exp_avg_sq"));
      s->max_exp_avg_sq(get("max_exp_avg_sq"));
      state[key] = std::move(s);
    } else {
      auto s = std::make_unique<torch::optim::SGDParamState>();
      s->momentum_buffer(get("momentum_buffer"));
      state[key] = std::move(s);
    }
  }
}

}  // namespace memtx::train
