// model/hf_arch.cpp: the table of supported Hugging Face architectures and their shared helpers.
#include "model/hf_arch.hpp"

#include <sstream>

namespace memtx {

namespace hf {

double rope_theta(const nlohmann::json& j, const std::filesystem::path& file) {
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

}  // namespace hf

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
