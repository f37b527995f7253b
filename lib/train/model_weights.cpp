// train/model_weights.cpp: model parameters + buffers <-> named tensors in the save precision.
#include "train/model_weights.hpp"

#include <map>
#include <sstream>

#include "memtx/error.hpp"

namespace memtx::train {
namespace {

NamedTensors live_tensors(const torch::nn::Module& model) {
  NamedTensors out;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) out.emplace_back(item.key(), item.value());
  for (const auto& item : model.named_buffers(/*recurse=*/true))
    if (item.value().defined()) out.emplace_back(item.key(), item.value());
  return out;
}

[[noreturn]] void bad(const std::string& origin, const std::string& what) {
  throw Error(StatusCode::Io, origin + ": " + what);
}

}  // namespace

torch::ScalarType save_precision_dtype(const std::string& precision) {
  if (precision == "fp32") return torch::kFloat;
  if (precision == "fp16") return torch::kHalf;
  if (precision == "bf16") return torch::kBFloat16;
  throw Error(StatusCode::Config,
              "training.save_precision: unknown precision '" + precision + "', expected fp32, fp16 or bf16");
}

NamedTensors model_tensors_for_save(const torch::nn::Module& model, torch::ScalarType dtype) {
  NamedTensors out;
  for (auto& [name, t] : live_tensors(model)) {
    torch::Tensor d = t.detach();
    if (torch::isFloatingType(d.scalar_type()) && d.scalar_type() != dtype) d = d.to(dtype);
    out.emplace_back(name, d);
  }
  return out;
}

void check_model_tensors(const torch::nn::Module& model, const NamedTensors& tensors, const std::string& origin) {
  std::map<std::string, const torch::Tensor*> in_file;
  for (const auto& [name, t] : tensors) in_file.emplace(name, &t);
  std::map<std::string, bool> known;
  for (const auto& [name, live] : live_tensors(model)) {
    known[name] = true;
    auto it = in_file.find(name);
    if (it == in_file.end()) bad(origin, "tensor '" + name + "' of the model is missing");
    const torch::Tensor& t = *it->second;
    if (t.sizes() != live.sizes())
      bad(origin, "tensor '" + name + "' has shape " + c10::str(t.sizes()) + " but the model's has shape " +
                      c10::str(live.sizes()));
    const bool file_float = torch::isFloatingType(t.scalar_type());
    const bool live_float = torch::isFloatingType(live.scalar_type());
    if (file_float != live_float || (!live_float && t.scalar_type() != live.scalar_type()))
      bad(origin, "tensor '" + name + "' has dtype " + std::string(c10::toString(t.scalar_type())) +
                      " but the model's has dtype " + std::string(c10::toString(live.scalar_type())));
  }
  for (const auto& [name, t] : tensors)
    if (!known.count(name)) bad(origin, "unknown tensor '" + name + "': the model has no parameter or buffer of that name");
}

void load_model_tensors(torch::nn::Module& model, const NamedTensors& tensors, const std::string& origin) {
  check_model_tensors(model, tensors, origin);
  std::map<std::string, const torch::Tensor*> in_file;
  for (const auto& [name, t] : tensors) in_file.emplace(name, &t);
  torch::NoGradGuard no_grad;
  for (auto& [name, live] : live_tensors(model)) live.copy_(*in_file.at(name));
}

}  // namespace memtx::train
