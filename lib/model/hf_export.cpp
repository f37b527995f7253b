// model/hf_export.cpp: memtx model -> Hugging Face folder and PEFT adapter (see hf_export.hpp).
#include "model/hf_export.hpp"

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "io/file_util.hpp"
#include "io/safetensors.hpp"
#include "model/hf_config.hpp"
#include "model/hf_export_tokenizer.hpp"
#include "model/lora.hpp"
#include "tokenizer/tokenizer.hpp"

namespace fs = std::filesystem;

namespace memtx {
namespace {

[[noreturn]] void refuse(const std::string& why) {
  throw Error(StatusCode::Config, "cannot export to a Hugging Face folder: " + why);
}

// "0, 2 and 5"
std::string join_layers(const std::vector<int64_t>& layers) {
  std::string out;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (i > 0) out += i + 1 == layers.size() ? " and " : ", ";
    out += std::to_string(layers[i]);
  }
  return out;
}

std::string layer_word(const std::vector<int64_t>& layers) { return layers.size() == 1 ? "layer " : "layers "; }

// Keys whose values change nothing in transformers' eval forward, or that the export writes another way.
const std::set<std::string>& keys_not_compared() {
  static const std::set<std::string> keys = {
      "model.dropout", "model.attention_dropout", "model.init_std", "model.device", "model.seed", "model.dtype",
      "model.max_seq_len",  // a limit on inputs, not part of the function (config.json's is export_max_positions)
      "model.tokenizer", "model.base_model_name", "model.freeze_base_model", "model.use_flash_attention",
      "attention.disable_flash_attention", "attention.ssm_scan", "attention.mla_cache", "attention.attention_list",
      "attention.attention_variant"};
  return keys;
}

// Null defaults replaced by what they resolve to, so that a config leaving them null and the imported one
// (which writes them out) compare equal.
Config resolved(Config c) {
  const int64_t head = hf::head_dim(c);
  c.set("attention.n_kv_group", hf::kv_heads(c));
  c.set("model.head_dim", head);
  if (!c.get_opt_int("model.rope_dim")) c.set("model.rope_dim", head);
  auto fill = [&](const char* key, int64_t value) {
    if (c.schema().find(key) && !c.get_opt_int(key)) c.set(key, value);
  };
  fill("attention.mla_latent_dim", c.get_int("model.hidden_dim") / 4);
  fill("attention.mla_nope_head_dim", head);
  fill("attention.mla_v_head_dim", head);
  if (c.get_string("model.rope_scaling") != "none") {
    if (!c.get_opt_int("model.rope_original_max_seq_len"))
      c.set("model.rope_original_max_seq_len", c.get_int("model.max_seq_len"));
    if (c.get_string("model.rope_scaling") == "yarn")
      c.set("model.rope_yarn_attention_factor", hf::yarn_attention_factor(c));
  }
  if (c.schema().find("attention.sliding_window") && c.get_opt_int("attention.sliding_window") &&
      c.get("attention.sliding_window_layers").is_null()) {
    std::vector<int64_t> all;
    for (int64_t i = 0; i < c.get_int("model.num_layers"); ++i) all.push_back(i);
    c.set("attention.sliding_window_layers", all);
  }
  return c;
}

// The exported config.json read back by the importer must describe the same model: every model/attention key
// that matters for the architecture comes back with the model's value.
void check_expressible(const Config& config, const nlohmann::json& exported, const HfArchitecture& arch) {
  const std::string model_type = exported["model_type"].get<std::string>();
  const std::set<std::string> unused(arch.export_unused_keys.begin(), arch.export_unused_keys.end());
  // Keys that are not compared take the model's values on both sides first: null defaults that resolve through
  // them (MLA's head sizes through head_dim) then resolve alike.
  Config imported = hf_config_from_json(exported, "config.json", config.schema_ptr());
  for (const auto& option : config.schema().options()) {
    if (keys_not_compared().count(option.key) || unused.count(option.key))
      imported.set(option.key, config.get(option.key));
  }
  const Config back = resolved(imported);
  const Config mine = resolved(config);
  std::vector<std::string> differences;
  for (const auto& option : config.schema().options()) {
    const std::string& key = option.key;
    if (key.rfind("model.", 0) != 0 && key.rfind("attention.", 0) != 0) continue;
    if (keys_not_compared().count(key) || unused.count(key)) continue;
    if (mine.get(key) != back.get(key)) {
      differences.push_back(key + " is " + mine.get(key).to_string() + " (a " + model_type +
                            " config.json can only say " + back.get(key).to_string() + ")");
    }
  }
  if (differences.empty()) return;
  std::string list;
  for (const auto& d : differences) list += (list.empty() ? "" : "; ") + d;
  refuse("transformers' " + exported["architectures"][0].get<std::string>() +
         " would compute another function than this model: " + list);
}

// The parameters to write, by HF name (sorted: the file's bytes do not depend on module order), with LoRA
// adapters folded in (merge) or left out.
std::map<std::string, torch::Tensor> hf_tensors(TransformerImpl& model, const HfArchitecture& arch, bool merge) {
  std::map<std::string, torch::Tensor> merged_weights;
  for (auto& [path, lora] : lora_modules(model)) {
    merged_weights[path + ".weight"] = merge ? lora->merged_weight() : lora->weight.detach();
  }
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : model.named_parameters(/*recurse=*/true)) {
    const std::string& name = p.key();
    const auto dot = name.rfind('.');
    const std::string leaf = dot == std::string::npos ? name : name.substr(dot + 1);
    if (leaf == "lora_A" || leaf == "lora_B") continue;
    const std::string hf_name = arch.export_name(name);
    if (arch.map_name(hf_name) != name) {
      refuse("parameter '" + name + "' has no place in a " + arch.model_types.front() + " model (it would be '" +
             hf_name + "', which the model does not have)");
    }
    auto merged = merged_weights.find(name);
    out[hf_name] = (merged != merged_weights.end() ? merged->second : p.value().detach()).contiguous();
  }
  return out;
}

void create_output_folder(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw Error(StatusCode::Io, dir + ": exists and is not a folder");
  fs::create_directories(dir, ec);
  if (ec) throw Error(StatusCode::Io, dir + ": cannot create the folder: " + ec.message());
}

void put_id(nlohmann::json& j, const char* key, std::optional<int64_t> id) {
  if (id) j[key] = *id;
}

}  // namespace

const HfArchitecture& hf_export_architecture(const TransformerImpl& model) {
  const auto& variants = model.spec().layer_variants;
  std::map<std::string, std::vector<int64_t>> unsupported, supported;
  for (size_t i = 0; i < variants.size(); ++i) {
    (hf_architecture_for_variant(variants[i]) ? supported : unsupported)[variants[i]].push_back(int64_t(i));
  }
  if (!unsupported.empty()) {
    std::string list;
    for (const auto& [variant, layers] : unsupported)
      list += (list.empty() ? "" : "; ") + layer_word(layers) + join_layers(layers) + " '" + variant + "'";
    refuse(list + ": transformers has no model with such layers (exportable: models whose every layer is causal "
                  "-> Llama or Qwen2, mla -> DeepSeek-V3, or ssm -> Mamba)");
  }
  if (supported.size() > 1) {
    std::string list;
    for (const auto& [variant, layers] : supported)
      list += (list.empty() ? "" : " with ") + layer_word(layers) + join_layers(layers) + " '" + variant + "'";
    refuse("the model mixes " + list + ": a transformers model has one kind of layer");
  }
  std::vector<int64_t> memory_layers;
  for (size_t i = 0; i < model.blocks.size(); ++i) {
    if (model.blocks[i]->memory) memory_layers.push_back(int64_t(i));
  }
  if (!memory_layers.empty()) {
    refuse(layer_word(memory_layers) + join_layers(memory_layers) +
           " hold memory-token cross-attention (memory.* settings), which transformers has no equivalent of");
  }
  return *hf_architecture_for_variant(supported.begin()->first);
}

HfExportResult save_hf_folder(TransformerImpl& model, const std::string& tokenizer_spec, const std::string& dir,
                              bool merge_adapters) {
  const HfArchitecture& arch = hf_export_architecture(model);
  const Config& config = model.config();
  nlohmann::json cfg = arch.export_config(config);
  check_expressible(config, cfg, arch);
  torch::NoGradGuard no_grad;
  const auto tensors = hf_tensors(model, arch, merge_adapters);
  const auto tokenizer = data::load_tokenizer(tokenizer_spec);

  create_output_folder(dir);

  HfExportResult result;
  result.model_type = cfg["model_type"].get<std::string>();
  ExportedSpecialTokens specials;
  const auto tokenizer_files =
      export_tokenizer_files(tokenizer_spec, *tokenizer, dir, config.get_int("model.max_seq_len"), &specials);
  std::vector<std::pair<std::string, torch::Tensor>> ordered(tensors.begin(), tensors.end());
  io::write_safetensors(io::path_in(dir, "model.safetensors"), ordered, {{"format", "pt"}});
  result.files.push_back("model.safetensors");

  put_id(cfg, "bos_token_id", specials.bos);
  put_id(cfg, "eos_token_id", specials.eos);
  put_id(cfg, "pad_token_id", specials.pad);
  io::atomic_write_text(io::path_in(dir, "config.json"), cfg.dump(2) + "\n");
  result.files.push_back("config.json");
  nlohmann::json generation = nlohmann::json::object();
  put_id(generation, "bos_token_id", specials.bos);
  put_id(generation, "eos_token_id", specials.eos);
  put_id(generation, "pad_token_id", specials.pad);
  io::atomic_write_text(io::path_in(dir, "generation_config.json"), generation.dump(2) + "\n");
  result.files.push_back("generation_config.json");
  result.files.insert(result.files.end(), tokenizer_files.begin(), tokenizer_files.end());
  return result;
}

std::vector<std::string> save_peft_adapter(TransformerImpl& model, const std::string& dir,
                                           const std::string& base_model_name_or_path) {
  const HfArchitecture& arch = hf_export_architecture(model);
  const auto modules = lora_modules(model);
  if (modules.empty())
    throw Error(StatusCode::InvalidArgument, "the model has no LoRA adapters to export (memory.use_lora is off)");
  const LoraSettings settings = LoraSettings::from_config(model.config());
  std::map<std::string, torch::Tensor> tensors;
  std::set<std::string> targets;
  torch::NoGradGuard no_grad;
  for (const auto& [path, lora] : modules) {
    const std::string hf_weight = arch.export_name(path + ".weight");  // "model.layers.0.self_attn.q_proj.weight"
    const std::string hf_module = hf_weight.substr(0, hf_weight.size() - 7);
    tensors["base_model.model." + hf_module + ".lora_A.weight"] = lora->lora_A.detach().contiguous();
    tensors["base_model.model." + hf_module + ".lora_B.weight"] = lora->lora_B.detach().contiguous();
    targets.insert(hf_module.substr(hf_module.rfind('.') + 1));
  }
  nlohmann::json j;
  j["peft_type"] = "LORA";
  j["task_type"] = "CAUSAL_LM";
  j["base_model_name_or_path"] = base_model_name_or_path;
  j["r"] = settings.rank;
  j["lora_alpha"] = settings.alpha;
  j["lora_dropout"] = settings.dropout;
  j["target_modules"] = std::vector<std::string>(targets.begin(), targets.end());
  j["bias"] = "none";
  j["fan_in_fan_out"] = false;
  j["inference_mode"] = true;
  j["use_rslora"] = false;
  j["use_dora"] = false;
  j["modules_to_save"] = nullptr;
  j["init_lora_weights"] = true;

  create_output_folder(dir);
  std::vector<std::pair<std::string, torch::Tensor>> ordered(tensors.begin(), tensors.end());
  io::write_safetensors(io::path_in(dir, "adapter_model.safetensors"), ordered, {{"format", "pt"}});
  io::atomic_write_text(io::path_in(dir, "adapter_config.json"), j.dump(2) + "\n");
  return {"adapter_model.safetensors", "adapter_config.json"};
}

}  // namespace memtx
