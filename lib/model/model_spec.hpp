// model/model_spec.hpp: the model's shape derived from a resolved Config (dims, heads, per-layer variant),
// checked against the registry before any tensor is allocated.
#pragma once
#include <string>
#include <vector>

#include "memtx/attention.hpp"
#include "plugin/registry.hpp"

namespace memtx {

struct MEMTX_API ModelSpec {
  int64_t vocab_size = 0, hidden_dim = 0, num_layers = 0, num_heads = 0, num_kv_heads = 0, head_dim = 0;
  int64_t intermediate_dim = 0, max_seq_len = 0;
  bool use_rms_norm = true, use_mlp = true, swiglu = true, mlp_bias = false, tie_embeddings = true;
  double norm_eps = 1e-6, dropout = 0.0, init_std = 0.02;
  std::vector<std::string> layer_variants;  // attention_list cycled over num_layers (or attention_variant)
  AttentionSpec attention;                  // template; layer_index/variant filled per layer
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;

  // Validates the config (cross-field rules), resolves device/dtype, and checks every layer's variant is
  // registered and every requested feature is available. Throws Error(Config / NotFound).
  static ModelSpec from_config(const Config& config, const Registry& registry);
  AttentionSpec layer_spec(int64_t layer) const;
};

// The self-attention variant names the config gives its blocks, before cycling over num_layers:
// attention.attention_list, or [attention.attention_variant] when the list is null.
MEMTX_API std::vector<std::string> configured_attention_names(const Config& c);

}  // namespace memtx
