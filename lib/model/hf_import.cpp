// model/hf_import.cpp: Hugging Face folder -> memtx config and weights (see hf_import.hpp).
#include "model/hf_import.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "io/safetensors.hpp"

namespace fs = std::filesystem;

namespace memtx {
namespace {

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(StatusCode::NotFound, "file not found: " + path.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw Error(StatusCode::Io, path.string() + ": not valid JSON: " + e.what());
  }
}

template <typename T>
T field(const nlohmann::json& j, const char* key, const fs::path& file) {
  if (!j.contains(key) || j[key].is_null()) throw Error(StatusCode::Config, file.string() + ": missing '" + key + "'");
  try {
    return j[key].get<T>();
  } catch (const std::exception&) {
    throw Error(StatusCode::Config, file.string() + ": '" + key + "' has the wrong type");
  }
}

double rope_theta_of(const nlohmann::json& j, const fs::path& file) {
  if (j.contains("rope_parameters") && j["rope_parameters"].is_object()) {
    const auto& rp = j["rope_parameters"];
    const std::string type = rp.value("rope_type", "default");
    if (type != "default") throw Error(StatusCode::Config, file.string() + ": rope_type '" + type + "' is not supported");
    return rp.value("rope_theta", 10000.0);
  }
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) {
    throw Error(StatusCode::Config, file.string() + ": rope_scaling is not supported");
  }
  return j.value("rope_theta", 10000.0);
}

std::vector<fs::path> weight_files(const fs::path& dir) {
  if (fs::exists(dir / "model.safetensors")) return {dir / "model.safetensors"};
  const auto index_path = dir / "model.safetensors.index.json";
  if (!fs::exists(index_path)) {
    throw Error(StatusCode::NotFound, dir.string() + ": neither model.safetensors nor model.safetensors.index.json");
  }
  auto index = read_json(index_path);
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

}  // namespace

Config hf_config_to_memtx(const std::string& dir_text, const Registry& registry, HfModelInfo* info_out) {
  const fs::path dir(dir_text);
  const fs::path file = dir / "config.json";
  auto j = read_json(file);
  HfModelInfo info;
  info.model_type = j.value("model_type", "");
  if (j.contains("architectures") && j["architectures"].is_array() && !j["architectures"].empty()) {
    info.architecture = j["architectures"][0].get<std::string>();
  }
  Config c(registry.schema());
  if (info.model_type == "qwen2" || info.model_type == "llama") {
    info.layer_prefix = "model.layers.";
    info.mixer_name = "self_attn";
    const auto heads = field<int64_t>(j, "num_attention_heads", file);
    const auto hidden = field<int64_t>(j, "hidden_size", file);
    c.set("model.hidden_dim", hidden);
    c.set("model.num_heads", heads);
    c.set("model.num_layers", field<int64_t>(j, "num_hidden_layers", file));
    c.set("model.intermediate_dim", field<int64_t>(j, "intermediate_size", file));
    c.set("model.vocab_size", field<int64_t>(j, "vocab_size", file));
    c.set("model.max_seq_len", j.value("max_position_embeddings", int64_t(4096)));
    c.set("model.norm_eps", j.value("rms_norm_eps", 1e-6));
    c.set("model.rope_theta", rope_theta_of(j, file));
    c.set("model.head_dim", j.contains("head_dim") && !j["head_dim"].is_null() ? j["head_dim"].get<int64_t>() : hidden / heads);
    c.set("attention.n_kv_group", j.value("num_key_value_heads", heads));
    c.set("model.tie_embeddings", j.value("tie_word_embeddings", false));
    c.set("model.attention_bias", info.model_type == "qwen2" ? true : j.value("attention_bias", false));
    c.set("model.mlp_bias", j.value("mlp_bias", false));
    c.set("model.use_rms_norm", true);
    c.set("model.mlp_type", std::string("swiglu"));
    c.set("model.rope_layout", std::string("half"));
    c.set("attention.attention_variant", std::string("causal"));
    c.set("memory.vanilla_mode", true);
    c.set("model.device", std::string("cpu"));
    const std::string act = j.value("hidden_act", "silu");
    if (act != "silu") throw Error(StatusCode::Config, file.string() + ": hidden_act '" + act + "' is not supported (silu)");
    if (j.value("use_sliding_window", false)) {
      throw Error(StatusCode::Config, file.string() + ": sliding-window attention is not supported");
    }
  } else {
    throw Error(StatusCode::Config, file.string() + ": model_type '" + info.model_type +
                                        "' is not supported (supported: qwen2, llama)");
  }
  if (info_out) *info_out = info;
  return c;
}

std::string hf_to_memtx_name(const std::string& hf, const HfModelInfo& info) {
  if (hf.find("rotary_emb.inv_freq") != std::string::npos) return "";
  std::string name = hf;
  if (name == "lm_head.weight") return name;
  const std::string model_prefix = "model.";
  if (name.rfind(model_prefix, 0) == 0) name = name.substr(model_prefix.size());
  auto replace = [&name](const std::string& from, const std::string& to) {
    auto pos = name.find(from);
    if (pos != std::string::npos) name.replace(pos, from.size(), to);
  };
  replace(".input_layernorm.", ".attn_norm.");
  replace(".post_attention_layernorm.", ".mlp_norm.");
  replace("." + info.mixer_name + ".", ".attn.");
  return name;
}

void load_hf_weights(TransformerImpl& model, const std::string& dir, const HfModelInfo& info) {
  auto params = model.named_parameters(/*recurse=*/true);
  std::set<std::string> missing;
  for (const auto& p : params) missing.insert(p.key());
  torch::NoGradGuard no_grad;
  for (const auto& path : weight_files(dir)) {
    auto file = io::read_safetensors(path.string());
    for (const auto& [hf_name, tensor] : file.tensors) {
      const std::string name = hf_to_memtx_name(hf_name, info);
      if (name.empty()) continue;
      auto* target = params.find(name);
      if (!target) {
        throw Error(StatusCode::Io, path.string() + ": tensor '" + hf_name + "' (memtx '" + name +
                                        "') has no counterpart in the memtx model");
      }
      if (target->sizes() != tensor.sizes()) {
        throw Error(StatusCode::Io, path.string() + ": tensor '" + hf_name + "' has shape " +
                                        c10::str(tensor.sizes()) + ", memtx '" + name + "' expects " +
                                        c10::str(target->sizes()));
      }
      target->copy_(tensor);
      missing.erase(name);
    }
  }
  if (!missing.empty()) {
    throw Error(StatusCode::Io, dir + ": no weight for memtx parameter '" + *missing.begin() + "' (" +
                                    std::to_string(missing.size()) + " missing)");
  }
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
