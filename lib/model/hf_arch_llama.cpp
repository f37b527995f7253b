// model/hf_arch_llama.cpp: Llama and Qwen2 decoders (RMSNorm, SwiGLU, rotate-half RoPE, GQA; Qwen2 has
// q/k/v biases). HF names: model.embed_tokens, model.layers.<i>.{input_layernorm, self_attn.{q,k,v,o}_proj,
// post_attention_layernorm, mlp.{gate,up,down}_proj}, model.norm, lm_head.
// RoPE scaling (linear, dynamic, llama3, yarn) and Qwen2's sliding-window layers: hf_rope.cpp.
// Export: a causal model with q/k/v biases (model.attention_bias) is a Qwen2, one without a Llama.
#include "model/hf_arch.hpp"

namespace memtx {

HfArchitecture hf_llama_architecture() {
  HfArchitecture arch;
  arch.model_types = {"llama", "qwen2"};
  arch.layer_prefix = "model.layers.";
  arch.mixer_name = "self_attn";
  arch.variant = "causal";  // sets host keys only
  arch.map_config = [](const nlohmann::json& j, const std::filesystem::path& file, Config& c) {
    const auto heads = hf::field<int64_t>(j, "num_attention_heads", file);
    const auto hidden = hf::field<int64_t>(j, "hidden_size", file);
    const bool qwen2 = hf::string_or(j, "model_type", "", file) == "qwen2";
    c.set("model.hidden_dim", hidden);
    c.set("model.num_heads", heads);
    c.set("model.num_layers", hf::field<int64_t>(j, "num_hidden_layers", file));
    c.set("model.intermediate_dim", hf::field<int64_t>(j, "intermediate_size", file));
    c.set("model.vocab_size", hf::field<int64_t>(j, "vocab_size", file));
    c.set("model.max_seq_len", hf::integer_or(j, "max_position_embeddings", 4096, file));
    c.set("model.norm_eps", hf::number_or(j, "rms_norm_eps", 1e-6, file));
    c.set("model.head_dim", hf::integer_or(j, "head_dim", hidden / heads, file));
    c.set("attention.n_kv_group", hf::integer_or(j, "num_key_value_heads", heads, file));
    c.set("model.tie_embeddings", hf::boolean_or(j, "tie_word_embeddings", false, file));
    c.set("model.attention_bias", qwen2 ? true : hf::boolean_or(j, "attention_bias", false, file));
    c.set("model.mlp_bias", hf::boolean_or(j, "mlp_bias", false, file));
    c.set("model.use_rms_norm", true);
    c.set("model.mlp_type", std::string("swiglu"));
    c.set("model.rope_layout", std::string("half"));
    c.set("attention.attention_variant", std::string("causal"));
    const std::string act = hf::string_or(j, "hidden_act", "silu", file);
    if (act != "silu") throw Error(StatusCode::Config, file.string() + ": hidden_act '" + act + "' is not supported (silu)");
    hf::map_rope(j, file, c);  // after max_seq_len: dynamic scaling extends it
    if (qwen2) {
      hf::map_sliding_window(j, file, c);
    } else if (hf::boolean_or(j, "use_sliding_window", false, file)) {
      throw Error(StatusCode::Config, file.string() + ": sliding-window attention is not part of a Llama model");
    }
  };
  arch.map_name = hf::decoder_name;
  arch.export_config = [](const Config& c) {
    const bool qwen2 = c.get_bool("model.attention_bias");
    nlohmann::json j = hf::export_common(c, qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM", qwen2 ? "qwen2" : "llama");
    j["hidden_size"] = c.get_int("model.hidden_dim");
    j["intermediate_size"] = c.get_int("model.intermediate_dim");
    j["num_attention_heads"] = c.get_int("model.num_heads");
    j["num_key_value_heads"] = hf::kv_heads(c);
    j["head_dim"] = hf::head_dim(c);
    j["num_hidden_layers"] = c.get_int("model.num_layers");
    j["max_position_embeddings"] = hf::export_max_positions(c);
    j["rms_norm_eps"] = c.get_float("model.norm_eps");
    j["rope_parameters"] = hf::export_rope(c);
    j["hidden_act"] = "silu";
    j["mlp_bias"] = c.get_bool("model.mlp_bias");
    j["attention_dropout"] = 0.0;
    if (qwen2) {
      hf::export_sliding_window(c, j);
    } else {
      j["attention_bias"] = false;
    }
    return j;
  };
  arch.export_name = hf::decoder_export_name;
  return arch;
}

}  // namespace memtx
