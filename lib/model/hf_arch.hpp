// model/hf_arch.hpp: one entry per supported Hugging Face architecture: how its config.json maps onto
// memtx's config and how its tensor names map onto memtx parameter names (hf_import.cpp), and the way back
// (hf_export.cpp). An architecture lives in its own file (hf_arch_<name>.cpp) and is listed in hf_arch.cpp.
#pragma once
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "memtx/config.hpp"

namespace memtx {

struct HfModelInfo {
  std::string architecture;   // "Qwen2ForCausalLM", ...
  std::string model_type;     // "qwen2", "llama"
  std::string layer_prefix;   // HF module path of layer i without i: "model.layers."
  std::string mixer_name;     // the layer's attention/mixer module: "self_attn", "mixer"
};

struct HfArchitecture {
  std::vector<std::string> model_types;  // config.json "model_type" values handled
  std::string layer_prefix;
  std::string mixer_name;
  // The attention variant the layers become, and the keys of its plugin that map_config sets: an import
  // without that plugin loaded stops before mapping, naming the plugin.
  std::string variant;
  std::vector<std::string> variant_keys;
  // config.json -> memtx keys (the caller has set memory.vanilla_mode and model.device already).
  std::function<void(const nlohmann::json& hf, const std::filesystem::path& file, Config& out)> map_config;
  // HF tensor name -> memtx parameter name; "" for tensors memtx does not keep (e.g. rotary inv_freq).
  std::function<std::string(const std::string& hf_name)> map_name;
  // Export (memtx -> HF), for models whose every layer is `variant`: the config.json fields (model_type and
  // architectures chosen from the config: Llama or Qwen2), and memtx parameter name -> HF tensor name (the
  // inverse of map_name). Keys the architecture's layers never read (their values change nothing, e.g. a
  // Mamba model's num_heads): the export's check that config.json says everything the config says skips them.
  std::function<nlohmann::json(const Config& c)> export_config;
  std::function<std::string(const std::string& memtx_name)> export_name;
  std::vector<std::string> export_unused_keys;
};

// Helpers shared by the architecture files.
namespace hf {
// An integer field's value: a JSON integer, or a float with no fraction (1e3); Error(Config) naming the file,
// the key and the value for anything else (2.7 is not read as 2) or one outside int64.
int64_t integer(const nlohmann::json& value, const char* key, const std::filesystem::path& file);
// Required field of config.json; Error(Config) naming the file and the key when missing or mistyped. Integer
// types go through integer(): a lossy conversion is refused.
template <typename T>
T field(const nlohmann::json& j, const char* key, const std::filesystem::path& file) {
  if (!j.contains(key) || j[key].is_null()) throw Error(StatusCode::Config, file.string() + ": missing '" + key + "'");
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    return static_cast<T>(integer(j[key], key, file));
  } else {
    try {
      return j[key].get<T>();
    } catch (const std::exception&) {
      throw Error(StatusCode::Config, file.string() + ": '" + key + "' has the wrong type");
    }
  }
}
// An optional integer field: `fallback` when absent or null, else as integer() reads it.
int64_t integer_or(const nlohmann::json& j, const char* key, int64_t fallback, const std::filesystem::path& file);
// Optional fields of other types: `fallback` when absent or null, else the value, which must be of the type
// (a number for number_or, integer or float); Error(Config) naming the file and the key otherwise ("'rms_norm_eps'
// is a JSON string, not a number"), never a raw JSON type error.
bool boolean_or(const nlohmann::json& j, const char* key, bool fallback, const std::filesystem::path& file);
double number_or(const nlohmann::json& j, const char* key, double fallback, const std::filesystem::path& file);
std::string string_or(const nlohmann::json& j, const char* key, const std::string& fallback,
                      const std::filesystem::path& file);
// RoPE and sliding-window settings both ways (hf_rope.cpp): model.rope_theta and model.rope_scaling with its keys
// from rope_parameters / rope_scaling (max_seq_len too for dynamic); the rope_parameters object and the
// max_position_embeddings of an export; yarn's resolved cos/sin factor; Qwen2's sliding-window layers.
void map_rope(const nlohmann::json& j, const std::filesystem::path& file, Config& c);
nlohmann::json export_rope(const Config& c);
int64_t export_max_positions(const Config& c);
double yarn_attention_factor(const Config& c);
void map_sliding_window(const nlohmann::json& j, const std::filesystem::path& file, Config& c);
void export_sliding_window(const Config& c, nlohmann::json& j);
// "model.layers.3.self_attn.q_proj.weight" -> "layers.3.attn.q_proj.weight" given renames of path parts.
std::string rename(std::string name, const std::vector<std::pair<std::string, std::string>>& replacements);
// Names of Llama-style decoders (Llama, Qwen2, DeepSeek): strip "model.", input_layernorm -> attn_norm,
// post_attention_layernorm -> mlp_norm, self_attn -> attn; lm_head kept; rotary inv_freq dropped ("").
std::string decoder_name(const std::string& hf_name);
// The inverse for export: attn_norm -> input_layernorm, mlp_norm -> post_attention_layernorm, attn -> self_attn,
// "model." prefixed (lm_head kept).
std::string decoder_export_name(const std::string& memtx_name);
// The number of key/value heads (attention.n_kv_group, null = num_heads) and the head size (model.head_dim,
// null = hidden_dim / num_heads) the config resolves to.
int64_t kv_heads(const Config& c);
int64_t head_dim(const Config& c);
// config.json fields every export writes: architectures, model_type, dtype, vocab_size, tie_word_embeddings,
// initializer_range, use_cache.
nlohmann::json export_common(const Config& c, const std::string& architecture, const std::string& model_type);
}  // namespace hf

const std::vector<HfArchitecture>& hf_architectures();
// The architecture that exports models whose layers are all `variant`; null when none does.
const HfArchitecture* hf_architecture_for_variant(const std::string& variant);
const HfArchitecture& hf_architecture_for(const std::string& model_type, const std::filesystem::path& file);

// The architectures (one file each).
HfArchitecture hf_llama_architecture();  // llama, qwen2
HfArchitecture hf_deepseek_architecture();  // deepseek_v3 (dense layers, MLA)
HfArchitecture hf_mamba_architecture();     // mamba (mixer-only blocks, ssm variant)

}  // namespace memtx
