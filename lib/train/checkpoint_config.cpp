// train/checkpoint_config.cpp: which config keys must agree between a checkpoint and the model loading it.
// Always: the sizes and variants (model_structure_keys). Then what memtx adds, compared only where it exists:
// the memory layout (which blocks have a memory sublayer and which bank each reads, computed from placement
// and sharing keys, so equivalent settings agree), the memory sublayers' shape keys when both configs have
// memory, and LoRA (on/off, then rank and targets when both have it).
#include <algorithm>
#include <sstream>

#include "model/lora.hpp"
#include "model/memory_layout.hpp"
#include "train/checkpoint.hpp"

namespace memtx::train {
namespace {

std::string layout_text(const MemoryLayout& layout) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < layout.bank_of_layer.size(); ++i) out << (i ? ", " : "") << layout.bank_of_layer[i];
  out << "]";
  return out.str();
}

[[noreturn]] void differs(const std::string& origin, const std::string& what, const std::string& saved,
                          const std::string& current) {
  throw Error(StatusCode::Config, origin + ": " + what + " is " + saved + " in the checkpoint but " + current +
                                      " in the current configuration");
}

void compare_keys(const Config& saved, const Config& current, const std::vector<std::string>& keys,
                  const std::string& origin) {
  for (const std::string& key : keys) {
    if (!saved.schema().find(key) || !current.schema().find(key)) continue;
    const Value& a = saved.get(key);
    const Value& b = current.get(key);
    if (a != b) differs(origin, key, a.to_string(), b.to_string());
  }
}

void compare_memory(const Config& saved, const Config& current, const std::string& origin) {
  const MemoryLayout a = memory_layout(MemoryLayoutOptions::from_config(saved));
  const MemoryLayout b = memory_layout(MemoryLayoutOptions::from_config(current));
  if (a.bank_of_layer != b.bank_of_layer)
    differs(origin,
            "the memory layout (the bank each block reads, -1 = no memory sublayer; from memory.vanilla_mode, "
            "use_memory_adapter, memory_layer_placement, memory_layer_k/n/indices, memory_sharing, memory_sharing_k)",
            layout_text(a), layout_text(b));
  if (a.num_banks == 0) return;
  compare_keys(saved, current,
               {"memory.memory_block_variant", "memory.use_low_rank_memory", "memory.use_low_rank_projections",
                "memory.use_chapters"},
               origin);
  if (saved.get_bool("memory.use_low_rank_memory"))
    compare_keys(saved, current, {"memory.memory_rank", "memory.low_rank_mode"}, origin);
  if (saved.get_bool("memory.use_low_rank_projections"))
    compare_keys(saved, current, {"memory.projection_rank"}, origin);
  if (saved.get_bool("memory.use_chapters"))
    compare_keys(saved, current, {"memory.num_chapters", "memory.tokens_per_chapter"}, origin);
}

void compare_lora(const Config& saved, const Config& current, const std::string& origin) {
  const bool a = lora_enabled(saved), b = lora_enabled(current);
  if (a != b)
    differs(origin, "LoRA (memory.use_lora or use_both_memory_and_lora, without vanilla_mode)", a ? "on" : "off",
            b ? "on" : "off");
  if (a) compare_keys(saved, current, {"memory.lora_rank", "memory.lora_targets"}, origin);
}

}  // namespace

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
  compare_keys(saved, current, model_structure_keys(), origin);
  compare_memory(saved, current, origin);
  compare_lora(saved, current, origin);
}

const std::vector<std::string>& run_config_keys() {
  static const std::vector<std::string> keys = {"model.device"};
  return keys;
}

void check_run_matches_model(const Config& model_config, const Config& run_config) {
  const auto& run_keys = run_config_keys();
  std::vector<std::string> differing;
  for (const auto& def : run_config.schema().options()) {
    const std::string& key = def.key;
    if (key.rfind("training.", 0) == 0 || std::find(run_keys.begin(), run_keys.end(), key) != run_keys.end()) continue;
    if (!model_config.schema().find(key)) continue;
    const Value& built = model_config.get(key);
    const Value& wanted = run_config.get(key);
    if (built != wanted) differing.push_back(key + " (the model has " + built.to_string() + ", the run " + wanted.to_string() + ")");
  }
  if (differing.empty()) return;
  std::string text;
  for (const auto& d : differing) text += (text.empty() ? "" : "; ") + d;
  throw Error(StatusCode::Config,
              "the training config sets model keys that differ from the model being trained, which was built with its "
              "own config (e.g. loaded with --init-from); they would be ignored: " + text +
                  ". Make the run's config agree with the model's config.yaml, or build a new model from the config");
}

}  // namespace memtx::train
