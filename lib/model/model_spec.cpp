// model/model_spec.cpp: Config -> ModelSpec, with the checks that must pass before allocating tensors (known
// variants, no ignored setting, the cross-field rules, plugins present, the estimated size: model_size.hpp).
#include "model/model_spec.hpp"

#include "memtx/text.hpp"
#include "model/model_size.hpp"
#include "model/setting_use.hpp"

#include <cmath>
#include <sstream>

namespace memtx {
namespace {

torch::Device resolve_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available()) {
      throw Error(StatusCode::Config, "model.device: 'cuda' requested but this LibTorch sees no CUDA device");
    }
    return torch::kCUDA;
  }
  return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

// model.rope_scaling and its parameters (equations at RopeScaling, memtx/attention.hpp).
RopeScaling rope_scaling_of(const Config& c) {
  RopeScaling r;
  const std::string type = c.get_string("model.rope_scaling");
  if (type == "none") return r;
  using Type = RopeScaling::Type;
  r.type = type == "linear" ? Type::Linear : type == "dynamic" ? Type::Dynamic : type == "llama3" ? Type::Llama3 : Type::Yarn;
  r.factor = c.get_float("model.rope_scaling_factor");
  r.original_max_position = c.get_opt_int("model.rope_original_max_seq_len").value_or(c.get_int("model.max_seq_len"));
  r.low_freq_factor = c.get_float("model.rope_low_freq_factor");
  r.high_freq_factor = c.get_float("model.rope_high_freq_factor");
  if (r.type == Type::Llama3 && !(r.high_freq_factor > r.low_freq_factor))
    throw Error(StatusCode::Config, "model.rope_high_freq_factor (" + std::to_string(r.high_freq_factor) +
                                        ") must be greater than model.rope_low_freq_factor (" +
                                        std::to_string(r.low_freq_factor) + ") for llama3 scaling");
  r.beta_fast = c.get_float("model.rope_yarn_beta_fast");
  r.beta_slow = c.get_float("model.rope_yarn_beta_slow");
  const auto attention = c.get_opt_float("model.rope_yarn_attention_factor");
  r.attention_factor = r.type != Type::Yarn ? 1.0
                       : attention         ? *attention
                       : r.factor <= 1.0   ? 1.0
                                           : 0.1 * std::log(r.factor) + 1.0;
  return r;
}

torch::Dtype resolve_dtype(const std::string& name) {
  if (name == "bfloat16") return torch::kBFloat16;
  if (name == "float16") return torch::kFloat16;
  return torch::kFloat32;
}

// Features implemented by plugins that may be missing from the registry.
void check_available(const Config& c, const Registry& registry) {
  if (memory_layers_enabled(c) && !registry.find("memory")) {
    throw Error(StatusCode::NotFound,
                "memory cross-attention layers are requested (memory.use_memory_adapter: true, "
                "memory.memory_layer_placement: " + c.get_string("memory.memory_layer_placement") +
                    ") but no 'memory' variant is registered (the memory plugin, libmemtx_memory.so, is not loaded); "
                    "set memory.vanilla_mode: true or memory.memory_layer_placement: none for a model without "
                    "memory layers");
  }
}

// Every name of attention_list (or attention_variant) is a registered self-attention variant.
void check_layer_variants(const Config& c, const Registry& registry) {
  const auto list = configured_attention_names(c);
  const std::string key =
      std::string("attention.") + (c.is_set("attention.attention_list") ? "attention_list" : "attention_variant");
  for (const auto& name : list) {
    if (name == "memory") {
      throw Error(StatusCode::Config,
                  key + ": 'memory' is the memory cross-attention sublayer, which memory.memory_layer_placement adds to "
                        "blocks next to their self-attention; it cannot be a block's attention variant");
    }
    if (!registry.find(name)) {
      throw Error(StatusCode::NotFound, "unknown attention variant '" + name + "' (" + key +
                                            "); registered: " + join(registry.variant_names()));
    }
  }
}

}  // namespace

std::vector<std::string> configured_attention_names(const Config& c) {
  auto list = c.get_string_list("attention.attention_list");
  if (list.empty()) list.push_back(c.get_string("attention.attention_variant"));
  return list;
}

ModelSpec ModelSpec::from_config(const Config& c, const Registry& registry) {
  check_layer_variants(c, registry);
  // Before the cross-field rules: a rule broken by a key no layer reads is best reported as that.
  check_no_ignored_settings(c, &registry, SettingScope::Model);
  c.validate();
  check_available(c, registry);
  ModelSpec s;
  s.vocab_size = c.get_int("model.vocab_size");
  s.hidden_dim = c.get_int("model.hidden_dim");
  s.num_layers = c.get_int("model.num_layers");
  s.num_heads = c.get_int("model.num_heads");
  s.num_kv_heads = c.get_opt_int("attention.n_kv_group").value_or(s.num_heads);
  s.head_dim = c.get_opt_int("model.head_dim").value_or(s.hidden_dim / s.num_heads);
  s.intermediate_dim = c.get_int("model.intermediate_dim");
  s.max_seq_len = c.get_int("model.max_seq_len");
  s.use_rms_norm = c.get_bool("model.use_rms_norm");
  s.use_mlp = c.get_bool("model.use_mlp");
  s.swiglu = c.get_string("model.mlp_type") == "swiglu";
  s.mlp_bias = c.get_bool("model.mlp_bias");
  s.tie_embeddings = c.get_bool("model.tie_embeddings");
  s.norm_eps = c.get_float("model.norm_eps");
  s.dropout = c.get_float("model.dropout");
  s.init_std = c.get_float("model.init_std");
  s.device = resolve_device(c.get_string("model.device"));
  s.dtype = resolve_dtype(c.get_string("model.dtype"));

  const auto list = configured_attention_names(c);
  for (int64_t i = 0; i < s.num_layers; ++i) s.layer_variants.push_back(list[i % list.size()]);

  AttentionSpec& a = s.attention;
  a.num_layers = s.num_layers;
  a.hidden_dim = s.hidden_dim;
  a.num_heads = s.num_heads;
  a.num_kv_heads = s.num_kv_heads;
  a.head_dim = s.head_dim;
  a.max_seq_len = s.max_seq_len;
  a.use_rope = c.get_bool("model.use_rope");
  a.rope_theta = c.get_float("model.rope_theta");
  a.rope_layout = c.get_string("model.rope_layout") == "interleaved" ? RopeLayout::Interleaved : RopeLayout::Half;
  a.rope_dim = c.get_opt_int("model.rope_dim").value_or(0);
  a.rope_scaling = rope_scaling_of(c);
  a.qkv_bias = c.get_bool("model.attention_bias");
  a.norm_eps = s.norm_eps;
  a.attention_dropout = c.get_float("model.attention_dropout");
  a.use_flash_attention = c.get_bool("model.use_flash_attention") && !c.get_bool("attention.disable_flash_attention");
  a.config = &c;
  check_model_size(s, c);  // the whole model's estimate, before any tensor is allocated
  return s;
}

AttentionSpec ModelSpec::layer_spec(int64_t layer) const {
  AttentionSpec spec = attention;
  spec.layer_index = layer;
  spec.variant = layer_variants.at(layer);
  return spec;
}

}  // namespace memtx
