// model/model_weights.cpp: model parameters + buffers <-> named tensors in the save precision.
#include "model/model_weights.hpp"

#include <map>
#include <set>
#include <sstream>

#include "memtx/error.hpp"
#include "model/adapter.hpp"
#include "model/packed_memory.hpp"
#include "model/transformer.hpp"

namespace memtx {
namespace {

// The frozen base weights of an adapter model: they are read from model.base_model_name whenever the model is
// built, so its files do not repeat them.
std::set<std::string> weights_from_base_model(const torch::nn::Module& model) {
  const auto* transformer = dynamic_cast<const TransformerImpl*>(&model);
  if (!transformer) return {};
  const Config& config = transformer->config();
  if (!config.get_opt_string("model.base_model_name") || !config.get_bool("model.freeze_base_model")) return {};
  const auto names = base_parameter_names(*transformer);
  return {names.begin(), names.end()};
}

// The tensors a model file holds: parameters, then buffers, less the frozen base weights of an adapter model.
NamedTensors live_tensors(const torch::nn::Module& model) {
  const std::set<std::string> from_base = weights_from_base_model(model);
  NamedTensors out;
  for (const auto& item : model.named_parameters(/*recurse=*/true))
    if (!from_base.count(item.key())) out.emplace_back(item.key(), item.value());
  for (const auto& item : model.named_buffers(/*recurse=*/true))
    if (item.value().defined() && !from_base.count(item.key())) out.emplace_back(item.key(), item.value());
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

NamedTensors model_tensors_for_save(const torch::nn::Module& model, std::optional<torch::ScalarType> dtype) {
  NamedTensors out;
  for (auto& [name, t] : live_tensors(model)) {
    torch::Tensor d = t.detach();
    if (dtype && torch::isFloatingType(d.scalar_type()) && d.scalar_type() != *dtype) d = d.to(*dtype);
    out.emplace_back(name, d);
  }
  return out;
}

NamedTensors model_tensors_for_export(const torch::nn::Module& model, std::optional<torch::ScalarType> dtype) {
  const int64_t bits = quantized_memory_bits(model);
  if (!bits) return model_tensors_for_save(model, dtype);
  // Bank tensors are quantised from the model's own float32 values (not from a save-precision copy), so a
  // load reproduces the reads; the other floating tensors go in the save precision (or stay as they are).
  NamedTensors tensors = model_tensors_for_save(model, dtype ? std::optional(torch::kFloat) : std::nullopt);
  for (auto& [name, t] : tensors) {
    if (is_quantized_bank_tensor(name, t)) t = t.to(torch::kFloat);
    else if (dtype && torch::isFloatingType(t.scalar_type())) t = t.to(*dtype);
  }
  return pack_quantized_memory(std::move(tensors), bits);
}

std::map<std::string, std::string> model_file_metadata(const torch::nn::Module& model) {
  const auto* transformer = dynamic_cast<const TransformerImpl*>(&model);
  if (!transformer || transformer->base_fingerprint().empty()) return {};
  return {{"base_model_fingerprint", transformer->base_fingerprint()}};
}

void check_model_file_metadata(const torch::nn::Module& model, const std::map<std::string, std::string>& metadata,
                               const std::string& origin) {
  const auto* transformer = dynamic_cast<const TransformerImpl*>(&model);
  const auto saved = metadata.find("base_model_fingerprint");
  if (!transformer || saved == metadata.end() || transformer->base_fingerprint().empty()) return;
  if (saved->second != transformer->base_fingerprint())
    throw Error(StatusCode::Config,
                origin + ": saved over other base weights: the files of model.base_model_name '" +
                    transformer->config().get_string("model.base_model_name") + "' differ from those it was trained on (" +
                    saved->second + " then, " + transformer->base_fingerprint() + " now)");
}

namespace {

// check_model_tensors on tensors whose packed memory banks are already unpacked.
void check_unpacked(const torch::nn::Module& model, const NamedTensors& tensors, const std::string& origin) {
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
  const std::set<std::string> from_base = weights_from_base_model(model);
  for (const auto& [name, t] : tensors) {
    if (known.count(name)) continue;
    if (from_base.count(name))
      bad(origin, "tensor '" + name + "' is a frozen weight of the base model (model.base_model_name), which the "
                  "model reads from that folder; the file holds it, so it was saved by another model");
    bad(origin, "unknown tensor '" + name + "': the model has no parameter or buffer of that name");
  }
}

}  // namespace

void check_model_tensors(const torch::nn::Module& model, const NamedTensors& tensors, const std::string& origin) {
  check_unpacked(model, unpack_quantized_memory(model, tensors, origin), origin);
}

void load_model_tensors(torch::nn::Module& model, const NamedTensors& tensors, const std::string& origin) {
  const NamedTensors unpacked = unpack_quantized_memory(model, tensors, origin);
  check_unpacked(model, unpacked, origin);
  std::map<std::string, const torch::Tensor*> in_file;
  for (const auto& [name, t] : unpacked) in_file.emplace(name, &t);
  torch::NoGradGuard no_grad;
  for (auto& [name, live] : live_tensors(model)) live.copy_(*in_file.at(name));
}

}  // namespace memtx
