// model/adapter.cpp: adapter mode (a Hugging Face base model, frozen) and LoRA attachment (see adapter.hpp).
#include "model/adapter.hpp"

#include <filesystem>
#include <set>

#include "model/hf_import.hpp"
#include "model/lora.hpp"
#include "model/transformer.hpp"
#include "io/file_util.hpp"

namespace fs = std::filesystem;

namespace memtx {
namespace {

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

// The folder named by model.base_model_name; Error(NotFound) with a hint when it is not there.
fs::path base_folder(const std::string& name) {
  std::error_code ec;
  if (!fs::is_directory(name, ec)) {
    throw Error(StatusCode::NotFound,
                "model.base_model_name: '" + name + "' is not a folder; adapter mode wraps a local Hugging Face "
                "model folder (config.json and model.safetensors or a sharded model.safetensors.index.json), e.g. "
                "`huggingface-cli download Qwen/Qwen2.5-1.5B-Instruct --local-dir models/Qwen2.5-1.5B-Instruct`");
  }
  return fs::path(name);
}

}  // namespace

Config resolve_base_model_config(const Config& config) {
  const auto name = config.get_opt_string("model.base_model_name");
  if (!name) return config;
  const fs::path dir = fs::absolute(base_folder(*name)).lexically_normal();
  const Config base = hf_config_to_memtx(dir.string(), config.schema_ptr());
  Config out = config;
  out.set("model.base_model_name", dir.string());  // a saved model folder then loads from anywhere
  for (const auto& def : config.schema().options()) {
    const std::string& key = def.key;
    if (key == "model.device" || !(starts_with(key, "model.") || starts_with(key, "attention."))) continue;
    if (base.is_set(key)) out.set(key, base.get(key));
  }
  if (!config.is_set("model.tokenizer")) {
    std::error_code ec;
    for (const char* file : {"tokenizer.json", "tokenizer.model"}) {
      if (fs::is_regular_file(dir / file, ec)) {
        out.set("model.tokenizer", dir.string());
        break;
      }
    }
  }
  return out;
}

std::vector<std::string> base_parameter_names(const TransformerImpl& model) {
  std::set<const void*> base;
  auto add = [&base](const torch::nn::Module& module) {
    for (const auto& p : module.parameters()) base.insert(p.unsafeGetTensorImpl());
  };
  add(*model.embed_tokens);
  add(*model.norm);
  if (model.lm_head) add(*model.lm_head);
  for (const auto& block : model.blocks) {
    add(*block->attn_norm);
    add(*block->attn);
    if (block->mlp_norm) add(*block->mlp_norm);
    if (block->mlp) add(*block->mlp);
  }
  std::vector<std::string> names;
  for (const auto& item : model.named_parameters()) {
    const std::string& name = item.key();
    const std::string leaf = name.substr(name.rfind('.') + 1);
    if (base.count(item.value().unsafeGetTensorImpl()) && !starts_with(leaf, "lora_")) names.push_back(name);
  }
  return names;
}

std::string base_model_fingerprint(const std::string& dir) {
  std::vector<fs::path> files = {fs::path(dir) / "config.json"};
  for (const auto& f : hf_weight_files(dir)) files.push_back(f);
  std::string out;
  for (const auto& f : files) {
    const io::FileDigest d = io::file_digest(f.string());
    out += (out.empty() ? "" : ";") + f.filename().string() + ":" + std::to_string(d.bytes) + ":" + d.hash;
  }
  return out;
}

void attach_adapters(TransformerImpl& model) {
  const Config& config = model.config();
  if (const auto name = config.get_opt_string("model.base_model_name")) {
    const fs::path dir = base_folder(*name);
    HfModelInfo info;
    hf_config_to_memtx(dir.string(), config.schema_ptr(), &info);
    const std::vector<std::string> names = base_parameter_names(model);
    const std::vector<NewParameter> added = load_hf_weights(model, dir.string(), info, &names);
    std::set<std::string> fresh;
    for (const auto& p : added) fresh.insert(p.name);
    model.set_new_parameters(added);
    if (config.get_bool("model.freeze_base_model")) {
      auto params = model.named_parameters();
      for (const auto& n : names)
        if (!fresh.count(n)) params[n].requires_grad_(false);  // what the base did not have stays trainable
      model.set_base_fingerprint(base_model_fingerprint(dir.string()));
    }
  }
  if (lora_enabled(config)) add_lora(model, LoraSettings::from_config(config));
}

}  // namespace memtx
