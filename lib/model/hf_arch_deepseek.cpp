// model/hf_arch_deepseek.cpp: DeepSeek-V3 decoders with multi-head latent attention (the mla variant) and a
// dense SwiGLU MLP in every layer (first_k_dense_replace >= num_hidden_layers; MoE layers are refused).
// HF names: model.embed_tokens, model.layers.<i>.{input_layernorm, self_attn.{q_a_proj, q_a_layernorm,
// q_b_proj | q_proj, kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj, o_proj}, post_attention_layernorm,
// mlp.{gate,up,down}_proj}, model.norm, lm_head. rope_interleave selects the interleaved RoPE layout.
#include "model/hf_arch.hpp"

namespace memtx {
namespace {

void require(bool ok, const std::filesystem::path& file, const std::string& what) {
  if (!ok) throw Error(StatusCode::Config, file.string() + ": " + what);
}

void map_deepseek_config(const nlohmann::json& j, const std::filesystem::path& file, Config& c) {
  const auto layers = hf::field<int64_t>(j, "num_hidden_layers", file);
  const auto dense_layers = hf::integer_or(j, "first_k_dense_replace", 3, file);  // transformers' default
  require(dense_layers >= layers, file,
          "MoE layers are not supported: first_k_dense_replace (" + std::to_string(dense_layers) +
              ") must be >= num_hidden_layers (" + std::to_string(layers) + ") so every layer has a dense MLP");
  const std::string act = hf::string_or(j, "hidden_act", "silu", file);
  require(act == "silu", file, "hidden_act '" + act + "' is not supported (silu)");

  c.set("model.hidden_dim", hf::field<int64_t>(j, "hidden_size", file));
  c.set("model.num_heads", hf::field<int64_t>(j, "num_attention_heads", file));
  c.set("model.num_layers", layers);
  c.set("model.intermediate_dim", hf::field<int64_t>(j, "intermediate_size", file));
  c.set("model.vocab_size", hf::field<int64_t>(j, "vocab_size", file));
  c.set("model.max_seq_len", hf::integer_or(j, "max_position_embeddings", 4096, file));
  c.set("model.norm_eps", hf::number_or(j, "rms_norm_eps", 1e-6, file));
  c.set("model.rope_theta", hf::rope_theta(j, file));
  const bool interleaved = hf::boolean_or(j, "rope_interleave", true, file);
  c.set("model.rope_layout", std::string(interleaved ? "interleaved" : "half"));
  c.set("model.tie_embeddings", hf::boolean_or(j, "tie_word_embeddings", false, file));
  c.set("model.attention_bias", hf::boolean_or(j, "attention_bias", false, file));
  c.set("model.mlp_bias", false);
  c.set("model.use_rms_norm", true);
  c.set("model.mlp_type", std::string("swiglu"));
  c.set("attention.attention_variant", std::string("mla"));

  if (j.contains("q_lora_rank") && !j["q_lora_rank"].is_null()) {
    c.set("attention.mla_q_lora_rank", hf::field<int64_t>(j, "q_lora_rank", file));
  }
  c.set("attention.mla_latent_dim", hf::field<int64_t>(j, "kv_lora_rank", file));
  c.set("attention.mla_rotary_dim", hf::field<int64_t>(j, "qk_rope_head_dim", file));
  c.set("attention.mla_nope_head_dim", hf::field<int64_t>(j, "qk_nope_head_dim", file));
  c.set("attention.mla_v_head_dim", hf::field<int64_t>(j, "v_head_dim", file));
}


}  // namespace

HfArchitecture hf_deepseek_architecture() {
  HfArchitecture arch;
  arch.model_types = {"deepseek_v3"};
  arch.layer_prefix = "model.layers.";
  arch.mixer_name = "self_attn";
  arch.variant = "mla";
  arch.variant_keys = {"attention.mla_q_lora_rank", "attention.mla_latent_dim", "attention.mla_rotary_dim",
                       "attention.mla_nope_head_dim", "attention.mla_v_head_dim"};
  arch.map_config = map_deepseek_config;
  arch.map_name = hf::decoder_name;
  return arch;
}

}  // namespace memtx
