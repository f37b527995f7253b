// model/hf_arch_mamba.cpp: Mamba (MambaForCausalLM): blocks of RMSNorm -> MambaMixer -> residual, no MLP, no
// positions; memtx builds them as ssm layers with model.use_mlp false. HF names: backbone.embeddings,
// backbone.layers.<i>.{norm, mixer.{in_proj, conv1d, x_proj, dt_proj, A_log, D, out_proj}}, backbone.norm_f,
// lm_head (absent when tied to the embeddings). The mixer keeps HF's parameter names (plugins/ssm).
// residual_in_fp32 changes nothing here: memtx imports in float32.
#include <cmath>

#include "model/hf_arch.hpp"

namespace memtx {
namespace {

// time_step_rank is an int, or "auto" (older configs) meaning ceil(hidden_size / 16).
int64_t time_step_rank(const nlohmann::json& j, int64_t hidden, const std::filesystem::path& file) {
  if (j.contains("time_step_rank") && j["time_step_rank"].is_string()) {
    if (j["time_step_rank"].get<std::string>() == "auto") return (hidden + 15) / 16;
    throw Error(StatusCode::Config, file.string() + ": 'time_step_rank' must be an integer or \"auto\"");
  }
  return hf::field<int64_t>(j, "time_step_rank", file);
}

void require(bool ok, const std::filesystem::path& file, const std::string& what) {
  if (!ok) throw Error(StatusCode::Config, file.string() + ": " + what);
}

}  // namespace

HfArchitecture hf_mamba_architecture() {
  HfArchitecture arch;
  arch.model_types = {"mamba"};
  arch.layer_prefix = "backbone.layers.";
  arch.mixer_name = "mixer";
  arch.variant = "ssm";
  arch.variant_keys = {"attention.ssm_mamba_expand", "attention.ssm_d_state", "attention.ssm_conv_kernel_size",
                       "attention.ssm_dt_rank", "attention.ssm_io_bias"};
  arch.map_config = [](const nlohmann::json& j, const std::filesystem::path& file, Config& c) {
    const auto hidden = hf::field<int64_t>(j, "hidden_size", file);
    const auto expand = hf::field<int64_t>(j, "expand", file);
    const std::string act = hf::string_or(j, "hidden_act", "silu", file);
    require(act == "silu", file, "hidden_act '" + act + "' is not supported (silu)");
    require(hf::boolean_or(j, "use_conv_bias", true, file), file,
            "use_conv_bias false is not supported (memtx's ssm mixer always has a conv1d bias)");
    c.set("model.hidden_dim", hidden);  // within its bounds from here: expand * hidden cannot overflow
    c.set("attention.ssm_mamba_expand", expand);
    if (j.contains("intermediate_size") && !j["intermediate_size"].is_null()) {
      const auto inner = hf::field<int64_t>(j, "intermediate_size", file);
      require(inner == expand * hidden, file,
              "intermediate_size " + std::to_string(inner) + " is not expand * hidden_size = " +
                  std::to_string(expand) + " * " + std::to_string(hidden));
    }
    c.set("model.num_heads", int64_t(1));  // unused by the mixer; keeps the head rules satisfied
    c.set("model.num_layers", hf::field<int64_t>(j, "num_hidden_layers", file));
    c.set("model.vocab_size", hf::field<int64_t>(j, "vocab_size", file));
    c.set("model.norm_eps", hf::number_or(j, "layer_norm_epsilon", 1e-5, file));
    c.set("model.tie_embeddings", hf::boolean_or(j, "tie_word_embeddings", true, file));
    c.set("model.use_rms_norm", true);
    c.set("model.use_mlp", false);
    c.set("attention.attention_variant", std::string("ssm"));
    c.set("attention.ssm_d_state", hf::field<int64_t>(j, "state_size", file));
    c.set("attention.ssm_conv_kernel_size", hf::field<int64_t>(j, "conv_kernel", file));
    c.set("attention.ssm_dt_rank", time_step_rank(j, hidden, file));
    c.set("attention.ssm_io_bias", hf::boolean_or(j, "use_bias", false, file));
  };
  arch.map_name = [](const std::string& hf_name) -> std::string {
    if (hf_name == "backbone.embeddings.weight") return "embed_tokens.weight";
    if (hf_name == "backbone.norm_f.weight") return "norm.weight";
    const std::string layers = "backbone.layers.";
    if (hf_name.rfind(layers, 0) == 0) {
      const std::string rest = hf_name.substr(layers.size());  // "<i>.norm.weight", "<i>.mixer.A_log"
      const auto dot = rest.find('.');
      if (dot != std::string::npos) {
        const std::string index = rest.substr(0, dot), part = rest.substr(dot + 1);
        if (part.rfind("norm.", 0) == 0) return "layers." + index + ".attn_norm." + part.substr(5);
        if (part.rfind("mixer.", 0) == 0) return "layers." + index + ".attn." + part.substr(6);
      }
    }
    return hf_name;  // lm_head.weight, or a name the loader will report as unknown
  };
  arch.export_config = [](const Config& c) {
    nlohmann::json j = hf::export_common(c, "MambaForCausalLM", "mamba");
    const int64_t hidden = c.get_int("model.hidden_dim"), expand = c.get_int("attention.ssm_mamba_expand");
    j["hidden_size"] = hidden;
    j["expand"] = expand;
    j["intermediate_size"] = expand * hidden;
    j["num_hidden_layers"] = c.get_int("model.num_layers");
    j["layer_norm_epsilon"] = c.get_float("model.norm_eps");
    j["state_size"] = c.get_int("attention.ssm_d_state");
    j["conv_kernel"] = c.get_int("attention.ssm_conv_kernel_size");
    j["time_step_rank"] = c.get_int("attention.ssm_dt_rank");
    j["use_bias"] = c.get_bool("attention.ssm_io_bias");
    j["use_conv_bias"] = true;
    j["hidden_act"] = "silu";
    j["residual_in_fp32"] = true;
    return j;
  };
  arch.export_name = [](const std::string& memtx_name) -> std::string {
    if (memtx_name == "embed_tokens.weight") return "backbone.embeddings.weight";
    if (memtx_name == "norm.weight") return "backbone.norm_f.weight";
    if (memtx_name == "lm_head.weight") return memtx_name;
    return "backbone." + hf::rename(memtx_name, {{".attn_norm.", ".norm."}, {".attn.", ".mixer."}});
  };
  // Mamba blocks have no attention heads, positions or MLP: these keys change nothing in them.
  arch.export_unused_keys = {"model.num_heads", "model.head_dim", "model.intermediate_dim", "model.max_seq_len",
                             "model.use_rope", "model.rope_theta", "model.rope_layout", "model.rope_dim",
                             "model.attention_bias", "model.mlp_type", "model.mlp_bias", "attention.n_kv_group"};
  return arch;
}

}  // namespace memtx
