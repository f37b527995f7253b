// model/hf_import.cpp: Hugging Face folder -> memtx config and weights (see hf_import.hpp).
#include "model/hf_import.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "io/safetensors.hpp"
#include "memtx/read_file.hpp"
#include "model/hf_config.hpp"

namespace fs = std::filesystem;

namespace memtx {
namespace {

// A JSON file of the folder, at most max_bytes (memtx/read_file.hpp refuses FIFOs, devices and larger files).
nlohmann::json read_json(const fs::path& path, uint64_t max_bytes) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(StatusCode::NotFound, "file not found: " + path.string());
  const std::string text = read_file(path.string(), "JSON file", max_bytes);
  try {
    return nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw Error(StatusCode::Io, path.string() + ": not valid JSON: " + e.what());
  }
}

}  // namespace

std::vector<std::filesystem::path> hf_weight_files(const std::filesystem::path& dir) {
  if (fs::exists(dir / "model.safetensors")) return {dir / "model.safetensors"};
  const auto index_path = dir / "model.safetensors.index.json";
  if (!fs::exists(index_path)) {
    throw Error(StatusCode::NotFound, dir.string() + ": neither model.safetensors nor model.safetensors.index.json");
  }
  auto index = read_json(index_path, FileLimits::kIndex);
  if (!index.contains("weight_map") || !index["weight_map"].is_object()) {
    throw Error(StatusCode::Io, index_path.string() + ": no weight_map object");
  }
  std::set<std::string> shards;
  for (auto& [name, file] : index["weight_map"].items()) {
    if (!file.is_string()) throw Error(StatusCode::Io, index_path.string() + ": weight_map['" + name + "'] is not a string");
    const std::string shard = file.get<std::string>();
    if (shard.find('/') != std::string::npos || shard.find("..") != std::string::npos) {
      throw Error(StatusCode::Io, index_path.string() + ": shard name '" + shard + "' must be a plain file name");
    }
    shards.insert(shard);
  }
  std::vector<fs::path> files;
  for (const auto& s : shards) files.push_back(dir / s);
  return files;
}

Config hf_config_to_memtx(const std::string& dir_text, const Registry& registry, HfModelInfo* info_out) {
  return hf_config_to_memtx(dir_text, registry.schema(), info_out);
}

Config hf_config_to_memtx(const std::string& dir_text, std::shared_ptr<const Schema> schema, HfModelInfo* info_out) {
  const fs::path file = fs::path(dir_text) / "config.json";
  return hf_config_from_json(read_json(file, FileLimits::kConfig), file, std::move(schema), info_out);
}

std::string hf_to_memtx_name(const std::string& hf, const HfModelInfo& info) {
  return hf_architecture_for(info.model_type, "config.json").map_name(hf);
}

namespace {

// A weight is copied into its parameter only without loss of meaning: between floating dtypes (F16, BF16, F32,
// F64: the precision changes, the values do not become something else), or between identical dtypes. An
// integer tensor (I8 codes, say) read into a float weight would silently become other numbers.
void check_convertible(const torch::Tensor& from, const torch::Tensor& to, const std::string& what,
                       const std::string& memtx_name) {
  const bool both_float = torch::isFloatingType(from.scalar_type()) && torch::isFloatingType(to.scalar_type());
  if (both_float || from.scalar_type() == to.scalar_type()) return;
  throw Error(StatusCode::Io, what + " has dtype " + io::safetensors_dtype_name(from.scalar_type()) + ", memtx '" +
                                  memtx_name + "' is " + io::safetensors_dtype_name(to.scalar_type()) +
                                  " (only conversions between F16, BF16, F32 and F64 are made)");
}

// The block index of "layers.<i>.<...>", or -1.
int64_t layer_of(const std::string& name) {
  if (name.rfind("layers.", 0) != 0) return -1;
  const size_t end = name.find('.', 7);
  try {
    return std::stoll(name.substr(7, end - 7));
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

std::vector<NewParameter> load_hf_weights(TransformerImpl& model, const std::string& dir, const HfModelInfo& info,
                                          const std::vector<std::string>* targets) {
  auto params = model.named_parameters(/*recurse=*/true);
  std::set<std::string> wanted, missing;
  if (targets) wanted.insert(targets->begin(), targets->end());
  else for (const auto& p : params) wanted.insert(p.key());
  missing = wanted;
  torch::NoGradGuard no_grad;
  for (const auto& path : hf_weight_files(dir)) {
    auto file = io::read_safetensors(path.string());
    for (const auto& [hf_name, tensor] : file.tensors) {
      const std::string name = hf_to_memtx_name(hf_name, info);
      if (name.empty()) continue;
      auto* target = wanted.count(name) ? params.find(name) : nullptr;
      if (!target) {
        throw Error(StatusCode::Io, path.string() + ": tensor '" + hf_name + "' (memtx '" + name +
                                        "') has no counterpart in the memtx model");
      }
      if (target->sizes() != tensor.sizes()) {
        throw Error(StatusCode::Io, path.string() + ": tensor '" + hf_name + "' has shape " +
                                        c10::str(tensor.sizes()) + ", memtx '" + name + "' expects " +
                                        c10::str(target->sizes()));
      }
      check_convertible(tensor, *target, path.string() + ": tensor '" + hf_name + "'", name);
      target->copy_(tensor);
      missing.erase(name);
    }
  }
  // A parameter of a layer whose variant is not the architecture's is new: the folder cannot hold it.
  const HfArchitecture& arch = hf_architecture_for(info.model_type, "config.json");
  std::vector<NewParameter> added;
  for (const std::string& name : missing) {
    const int64_t layer = layer_of(name);
    const std::string attn = layer >= 0 ? "layers." + std::to_string(layer) + ".attn." : "";
    const std::string variant =
        layer >= 0 && layer < static_cast<int64_t>(model.blocks.size()) && name.rfind(attn, 0) == 0
            ? model.spec().layer_spec(layer).variant
            : "";
    if (variant.empty() || variant == arch.variant)
      throw Error(StatusCode::Io, dir + ": no weight for memtx parameter '" + name + "' (" +
                                      std::to_string(missing.size()) + " missing): a " + info.model_type +
                                      " model's files should hold it; is the folder complete?");
    added.push_back({name, "new in the '" + variant + "' layer " + std::to_string(layer) + " (a " + info.model_type +
                               " model's layers are '" + arch.variant + "' attention, without '" +
                               name.substr(attn.size()) + "'); initialised by the variant, trainable"});
  }
  return added;
}

Transformer load_hf_model(const std::string& dir, const Registry& registry, HfModelInfo* info_out) {
  HfModelInfo info;
  Config config = hf_config_to_memtx(dir, registry, &info);
  Transformer model(config, registry);
  load_hf_weights(*model, dir, info);
  model->eval();
  if (info_out) *info_out = info;
  return model;
}

}  // namespace memtx
