// model/hf_arch.cpp: the table of supported Hugging Face architectures and their shared helpers.
#include "model/hf_arch.hpp"

#include <cmath>
#include <limits>
#include <sstream>

namespace memtx {

namespace hf {

int64_t integer(const nlohmann::json& value, const char* key, const std::filesystem::path& file) {
  const std::string where = file.string() + ": '" + key + "' ";
  if (value.is_number_unsigned()) {
    if (value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw Error(StatusCode::Config, where + "is " + value.dump() + ", too large for an integer setting");
    return static_cast<int64_t>(value.get<uint64_t>());
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    const double v = value.get<double>();
    if (!std::isfinite(v) || v != std::floor(v))
      throw Error(StatusCode::Config, where + "is " + value.dump() + ", not an integer");
    if (std::fabs(v) >= 9.2233720368547758e18)  // 2^63: outside int64
      throw Error(StatusCode::Config, where + "is " + value.dump() + ", too large for an integer setting");
    return static_cast<int64_t>(v);
  }
  throw Error(StatusCode::Config, where + "is a JSON " + std::string(value.type_name()) + ", not an integer");
}

int64_t integer_or(const nlohmann::json& j, const char* key, int64_t fallback, const std::filesystem::path& file) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? fallback : integer(*it, key, file);
}

namespace {

// The value of an optional field, or null when it is absent or null.
const nlohmann::json* optional_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

[[noreturn]] void wrong_type(const nlohmann::json& value, const char* key, const char* expected,
                             const std::filesystem::path& file) {
  throw Error(StatusCode::Config, file.string() + ": '" + key + "' is a JSON " + std::string(value.type_name()) +
                                      ", not " + expected);
}

}  // namespace

bool boolean_or(const nlohmann::json& j, const char* key, bool fallback, const std::filesystem::path& file) {
  const nlohmann::json* v = optional_field(j, key);
  if (!v) return fallback;
  if (!v->is_boolean()) wrong_type(*v, key, "a boolean", file);
  return v->get<bool>();
}

double number_or(const nlohmann::json& j, const char* key, double fallback, const std::filesystem::path& file) {
  const nlohmann::json* v = optional_field(j, key);
  if (!v) return fallback;
  if (!v->is_number()) wrong_type(*v, key, "a number", file);
  return v->get<double>();
}

std::string string_or(const nlohmann::json& j, const char* key, const std::string& fallback,
                      const std::filesystem::path& file) {
  const nlohmann::json* v = optional_field(j, key);
  if (!v) return fallback;
  if (!v->is_string()) wrong_type(*v, key, "a string", file);
  return v->get<std::string>();
}

std::string rename(std::string name, const std::vector<std::pair<std::string, std::string>>& replacements) {
  for (const auto& [from, to] : replacements) {
    auto pos = name.find(from);
    if (pos != std::string::npos) name.replace(pos, from.size(), to);
  }
  return name;
}

std::string decoder_name(const std::string& hf_name) {
  if (hf_name.find("rotary_emb.inv_freq") != std::string::npos) return "";
  if (hf_name == "lm_head.weight") return hf_name;
  std::string name = hf_name.rfind("model.", 0) == 0 ? hf_name.substr(6) : hf_name;
  return rename(name, {{".input_layernorm.", ".attn_norm."},
                       {".post_attention_layernorm.", ".mlp_norm."},
                       {".self_attn.", ".attn."}});
}

std::string decoder_export_name(const std::string& memtx_name) {
  if (memtx_name == "lm_head.weight") return memtx_name;
  return "model." + rename(memtx_name, {{".attn_norm.", ".input_layernorm."},
                                        {".mlp_norm.", ".post_attention_layernorm."},
                                        {".attn.", ".self_attn."}});
}

int64_t kv_heads(const Config& c) {
  return c.get_opt_int("attention.n_kv_group").value_or(c.get_int("model.num_heads"));
}

int64_t head_dim(const Config& c) {
  return c.get_opt_int("model.head_dim").value_or(c.get_int("model.hidden_dim") / c.get_int("model.num_heads"));
}

nlohmann::json export_common(const Config& c, const std::string& architecture, const std::string& model_type) {
  nlohmann::json j;
  j["architectures"] = nlohmann::json::array({architecture});
  j["model_type"] = model_type;
  j["dtype"] = c.get_string("model.dtype");
  j["vocab_size"] = c.get_int("model.vocab_size");
  j["tie_word_embeddings"] = c.get_bool("model.tie_embeddings");
  j["initializer_range"] = c.get_float("model.init_std");
  j["use_cache"] = true;
  return j;
}

}  // namespace hf

const HfArchitecture* hf_architecture_for_variant(const std::string& variant) {
  for (const auto& arch : hf_architectures()) {
    if (arch.variant == variant && arch.export_config) return &arch;
  }
  return nullptr;
}

const std::vector<HfArchitecture>& hf_architectures() {
  static const std::vector<HfArchitecture> table = {hf_llama_architecture(), hf_deepseek_architecture(),
                                                    hf_mamba_architecture()};
  return table;
}

const HfArchitecture& hf_architecture_for(const std::string& model_type, const std::filesystem::path& file) {
  std::ostringstream supported;
  for (const auto& arch : hf_architectures()) {
    for (const auto& type : arch.model_types) {
      if (type == model_type) return arch;
      supported << (supported.tellp() > 0 ? ", " : "") << type;
    }
  }
  throw Error(StatusCode::Config, file.string() + ": model_type '" + model_type + "' is not supported (supported: " +
                                      supported.str() + ")");
}

}  // namespace memtx
