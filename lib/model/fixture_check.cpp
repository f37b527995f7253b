// model/fixture_check.cpp: compares memtx with reference outputs stored beside a Hugging Face folder
// (io.safetensors: input_ids, logits, "<layer prefix><i>.<mixer>.in/.out"). Each module is fed the
// reference input, so a per-layer error is that layer's own; the logits compare the whole model.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "io/safetensors.hpp"
#include "model/finite_weights.hpp"
#include "model/hf_import.hpp"

namespace memtx {
namespace {

double max_abs_error(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes()) return std::numeric_limits<double>::infinity();
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// "model.layers.3.self_attn.out" -> 3 when the name is a mixer output of this architecture, else -1.
int64_t layer_of(const std::string& name, const HfModelInfo& info, const std::string& suffix) {
  if (name.rfind(info.layer_prefix, 0) != 0) return -1;
  const std::string tail = "." + info.mixer_name + suffix;
  if (name.size() <= info.layer_prefix.size() + tail.size() || name.compare(name.size() - tail.size(), tail.size(), tail) != 0) return -1;
  const std::string digits = name.substr(info.layer_prefix.size(), name.size() - info.layer_prefix.size() - tail.size());
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  if (digits.size() > 18) return std::numeric_limits<int64_t>::max();  // past any model, and past stoll
  return std::stoll(digits);
}

}  // namespace

std::string check_fixture_json(const std::string& dir, const Registry& registry, double module_tol, double logits_tol) {
  const auto io_path = (std::filesystem::path(dir) / "io.safetensors").string();
  HfModelInfo info;
  Transformer model = load_hf_model(dir, registry, &info);
  check_finite_weights(*model, dir);  // NaN weights are named here, not reported as a NaN error per tensor
  auto io = io::read_safetensors(io_path);
  std::unordered_map<std::string, const torch::Tensor*> by_name;  // one lookup per name, however many tensors
  for (const auto& [name, t] : io.tensors) by_name.emplace(name, &t);
  auto find = [&](const std::string& name) -> const torch::Tensor* {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : it->second;
  };
  torch::NoGradGuard no_grad;
  nlohmann::json tensors = nlohmann::json::array();
  bool ok = true;
  auto report = [&](const std::string& name, double err, double tol) {
    const bool pass = err <= tol;
    ok = ok && pass;
    tensors.push_back({{"name", name}, {"max_abs_error", err}, {"tolerance", tol}, {"ok", pass}});
  };
  int compared_modules = 0;
  for (const auto& [name, expected] : io.tensors) {
    const int64_t layer = layer_of(name, info, ".out");
    if (layer < 0) continue;
    if (layer >= static_cast<int64_t>(model->blocks.size())) {
      throw Error(StatusCode::Io, io_path + ": '" + name + "' names layer " + std::to_string(layer) + " but the model has " +
                                      std::to_string(model->blocks.size()));
    }
    const std::string in_name = name.substr(0, name.size() - 4) + ".in";
    const auto* input = find(in_name);
    if (!input) throw Error(StatusCode::Io, io_path + ": '" + name + "' has no matching '" + in_name + "'");
    AttentionContext ctx;
    auto out = model->blocks[layer]->attn->forward(input->to(torch::kFloat32), ctx);
    report(name, max_abs_error(out, expected), module_tol);
    ++compared_modules;
  }
  const auto* ids = find("input_ids");
  const auto* logits = find("logits");
  if (!ids || !logits) throw Error(StatusCode::Io, io_path + ": needs 'input_ids' and 'logits'");
  if (!c10::isIntegralType(ids->scalar_type(), /*includeBool=*/false))
    throw Error(StatusCode::Io, io_path + ": 'input_ids' has dtype " + io::safetensors_dtype_name(ids->scalar_type()) +
                                    "; token ids must be an integer dtype (I64, I32, I16, I8 or U8)");
  report("logits", max_abs_error(model->forward(ids->to(torch::kLong)), *logits), logits_tol);
  if (compared_modules == 0) {
    throw Error(StatusCode::Io, io_path + ": no '" + info.layer_prefix + "<i>." + info.mixer_name + ".out' tensors found");
  }
  nlohmann::json j = {{"architecture", info.architecture}, {"model_type", info.model_type}, {"dir", dir},
                      {"tensors", tensors}, {"ok", ok}};
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);  // names need not be UTF-8
}

}  // namespace memtx
