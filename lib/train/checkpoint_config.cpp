// train/checkpoint_config.cpp: which config keys must agree between a checkpoint and the model loading it.
#include "train/checkpoint.hpp"

namespace memtx::train {

const std::vector<std::string>& model_structure_keys() {
  static const std::vector<std::string> keys = {
      "model.hidden_dim",       "model.num_heads",          "model.num_layers",      "model.intermediate_dim",
      "model.vocab_size",       "model.head_dim",           "model.mlp_type",        "model.mlp_bias",
      "model.attention_bias",   "model.tie_embeddings",     "model.use_mlp",         "model.use_rms_norm",
      "attention.attention_variant", "attention.attention_list", "attention.n_kv_group", "memory.vanilla_mode",
      "memory.num_memory_tokens", "memory.memory_dim",
  };
  return keys;
}

void check_config_compatible(const Config& saved, const Config& current, const std::string& origin) {
  for (const std::string& key : model_structure_keys()) {
    if (!saved.schema().find(key) || !current.schema().find(key)) continue;
    const Value& a = saved.get(key);
    const Value& b = current.get(key);
    if (a != b)
      throw Error(StatusCode::Config, origin + ": " + key + " is " + a.to_string() +
                                          " in the checkpoint but " + b.to_string() +
                                          " in the current configuration");
  }
}

}  // namespace memtx::train
