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
  hf::map_rope(j, file, c);
  const std::string scaling = c.get_string("model.rope_scaling");
  // DeepSeek's yarn also rescales the softmax by mscale^2, which the mla plugin does not do.
  require(scaling == "none", file, "rope_type '" + scaling + "' is not supported for DeepSeek (MLA) models");
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


// The config.json of a memtx mla model: every layer dense (first_k_dense_replace = num_hidden_layers), the
// MLA sizes resolved as the mla plugin resolves its null defaults (latent hidden/4, nope and v head_dim).
nlohmann::json export_deepseek_config(const Config& c) {
  nlohmann::json j = hf::export_common(c, "DeepseekV3ForCausalLM", "deepseek_v3");
  const int64_t layers = c.get_int("model.num_layers"), head = hf::head_dim(c);
  j["hidden_size"] = c.get_int("model.hidden_dim");
  j["intermediate_size"] = c.get_int("model.intermediate_dim");
  j["num_attention_heads"] = c.get_int("model.num_heads");
  j["num_key_value_heads"] = c.get_int("model.num_heads");
  j["num_hidden_layers"] = layers;
  j["first_k_dense_replace"] = layers;
  j["max_position_embeddings"] = c.get_int("model.max_seq_len");
  j["rms_norm_eps"] = c.get_float("model.norm_eps");
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", c.get_float("model.rope_theta")}};
  j["rope_interleave"] = c.get_string("model.rope_layout") == "interleaved";
  j["hidden_act"] = "silu";
  j["attention_bias"] = c.get_bool("model.attention_bias");
  j["attention_dropout"] = 0.0;
  const auto q_lora = c.get_opt_int("attention.mla_q_lora_rank");
  j["q_lora_rank"] = q_lora ? nlohmann::json(*q_lora) : nlohmann::json(nullptr);
  j["kv_lora_rank"] = c.get_opt_int("attention.mla_latent_dim").value_or(c.get_int("model.hidden_dim") / 4);
  const int64_t rope = c.get_int("attention.mla_rotary_dim");
  const int64_t nope = c.get_opt_int("attention.mla_nope_head_dim").value_or(head);
  j["qk_rope_head_dim"] = rope;
  j["qk_nope_head_dim"] = nope;
  j["qk_head_dim"] = rope + nope;
  j["head_dim"] = rope;
  j["v_head_dim"] = c.get_opt_int("attention.mla_v_head_dim").value_or(head);
  // No routed experts are used (every layer dense); transformers still reads these.
  j["n_routed_experts"] = 1;
  j["n_shared_experts"] = 1;
  j["num_experts_per_tok"] = 1;
  j["n_group"] = 1;
  j["topk_group"] = 1;
  j["moe_intermediate_size"] = c.get_int("model.intermediate_dim");
  return j;
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
  arch.export_config = export_deepseek_config;
  arch.export_name = hf::decoder_export_name;
  // MLA reads its own head sizes (resolved into config.json) and never n_kv_group, head_dim or rope_dim.
  arch.export_unused_keys = {"model.head_dim", "model.rope_dim", "attention.n_kv_group"};
  return arch;
}

}  // namespace memtx
