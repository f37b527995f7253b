// model/setting_use.cpp: the table of conditional host settings and the check that no set key is ignored
// (see setting_use.hpp).
#include "model/setting_use.hpp"

#include <algorithm>
#include <map>

#include "memtx/text.hpp"
#include "model/lora.hpp"
#include "model/model_spec.hpp"

namespace memtx {
namespace {

bool base_is_frozen(const Config& c) {
  return c.get_opt_string("model.base_model_name").has_value() && c.get_bool("model.freeze_base_model");
}
bool eval_on(const Config& c) { return c.get_opt_string("training.eval_split").has_value(); }
std::string placement(const Config& c) { return c.get_string("memory.memory_layer_placement"); }

std::vector<ConditionalSetting> build_table() {
  using C = const Config&;
  std::vector<ConditionalSetting> t;
  auto add = [&](std::initializer_list<const char*> keys, const char* when, std::function<bool(C)> read) {
    for (const char* k : keys) t.push_back({k, when, read});
  };
  // ---- model ----
  add({"model.intermediate_dim", "model.mlp_type", "model.mlp_bias"}, "model.use_mlp is true",
      [](C c) { return c.get_bool("model.use_mlp"); });
  add({"model.freeze_base_model"}, "model.base_model_name names a pretrained base",
      [](C c) { return c.get_opt_string("model.base_model_name").has_value(); });
  // ---- RoPE scaling ----
  add({"model.rope_scaling_factor"}, "model.rope_scaling is not none",
      [](C c) { return c.get_string("model.rope_scaling") != "none"; });
  add({"model.rope_original_max_seq_len"}, "model.rope_scaling is dynamic, llama3 or yarn", [](C c) {
    const std::string type = c.get_string("model.rope_scaling");
    return type == "dynamic" || type == "llama3" || type == "yarn";
  });
  add({"model.rope_low_freq_factor", "model.rope_high_freq_factor"}, "model.rope_scaling is llama3",
      [](C c) { return c.get_string("model.rope_scaling") == "llama3"; });
  add({"model.rope_yarn_beta_fast", "model.rope_yarn_beta_slow", "model.rope_yarn_attention_factor"},
      "model.rope_scaling is yarn", [](C c) { return c.get_string("model.rope_scaling") == "yarn"; });
  // ---- memory layers and LoRA ----
  add({"memory.use_memory_adapter", "memory.use_both_memory_and_lora", "memory.use_lora"},
      "memory.vanilla_mode is false (vanilla mode has neither memory layers nor LoRA)",
      [](C c) { return !c.get_bool("memory.vanilla_mode"); });
  add({"memory.memory_layer_placement"},
      "memory.vanilla_mode is false and memory.use_memory_adapter or memory.use_both_memory_and_lora is true",
      [](C c) {
        return !c.get_bool("memory.vanilla_mode") &&
               (c.get_bool("memory.use_memory_adapter") || c.get_bool("memory.use_both_memory_and_lora"));
      });
  add({"memory.memory_layer_indices", "memory.memory_sharing", "memory.memory_block_variant"},
      "the model has memory layers (memory.vanilla_mode false, memory.use_memory_adapter or "
      "memory.use_both_memory_and_lora true, memory.memory_layer_placement not none)",
      [](C c) { return memory_layers_enabled(c); });
  add({"memory.memory_layer_k"}, "the model has memory layers placed first_k or last_k", [](C c) {
    return memory_layers_enabled(c) && (placement(c) == "first_k" || placement(c) == "last_k");
  });
  add({"memory.memory_layer_n"}, "the model has memory layers placed every_n",
      [](C c) { return memory_layers_enabled(c) && placement(c) == "every_n"; });
  add({"memory.memory_sharing_k"}, "the model has memory layers with memory.memory_sharing every_k_layers", [](C c) {
    return memory_layers_enabled(c) && c.get_string("memory.memory_sharing") == "every_k_layers";
  });
  add({"memory.lora_rank", "memory.lora_alpha", "memory.lora_dropout", "memory.lora_targets"},
      "LoRA is on (memory.use_lora or memory.use_both_memory_and_lora true, memory.vanilla_mode false)",
      [](C c) { return lora_enabled(c); });
  // ---- training ----
  add({"training.early_stopping_patience", "training.early_stopping_threshold"}, "training.early_stopping is true",
      [](C c) { return c.get_bool("training.early_stopping"); });
  add({"training.eval_steps", "training.eval_max_batches", "training.save_best_model", "training.eval_fraction"},
      "training.eval_split names a split to evaluate on", [](C c) { return eval_on(c); });
  add({"training.warmup_steps"}, "training.warmup_ratio is null (a ratio replaces the step count)",
      [](C c) { return !c.get_opt_float("training.warmup_ratio").has_value(); });
  add({"training.max_steps"}, "training.num_epochs is null (a number of epochs replaces the step count)",
      [](C c) { return !c.get_opt_int("training.num_epochs").has_value(); });
  add({"training.min_lr_ratio"}, "training.scheduler is cosine or linear",
      [](C c) { return c.get_string("training.scheduler") != "constant"; });
  add({"training.adam_beta1", "training.adam_beta2", "training.adam_epsilon"}, "training.optimizer is adamw or adam",
      [](C c) { return c.get_string("training.optimizer") != "sgd"; });
  add({"training.lora_lr"}, "LoRA is on (memory.use_lora or memory.use_both_memory_and_lora true)",
      [](C c) { return lora_enabled(c); });
  add({"training.memory_lr"}, "the model has memory layers", [](C c) { return memory_layers_enabled(c); });
  add({"training.base_model_lr"}, "the base weights train (no model.base_model_name, or model.freeze_base_model false)",
      [](C c) { return !base_is_frozen(c); });
  add({"training.wandb_project", "training.wandb_run_name"},
      "training.log_to_wandb is true, which memtx refuses (it talks to no online service)", [](C) { return false; });
  add({"training.fsdp_sharding_strategy"}, "training.distributed_strategy is fsdp",
      [](C c) { return c.get_string("training.distributed_strategy") == "fsdp"; });
  return t;
}

std::string section_of(const std::string& key) { return key.substr(0, key.find('.')); }

bool in_scope(const std::string& key, SettingScope scope) {
  if (scope == SettingScope::All) return true;
  return (section_of(key) == "training") == (scope == SettingScope::Training);
}

}  // namespace

const std::vector<ConditionalSetting>& conditional_settings() {
  static const std::vector<ConditionalSetting> table = build_table();
  return table;
}

std::vector<std::string> model_layer_variants(const Config& config) {
  std::vector<std::string> names = configured_attention_names(config);
  if (memory_layers_enabled(config)) names.push_back("memory");
  std::vector<std::string> unique;
  for (const auto& n : names)
    if (std::find(unique.begin(), unique.end(), n) == unique.end()) unique.push_back(n);
  return unique;
}

std::vector<std::string> variants_reading(const Registry& registry, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& name : registry.variant_names()) {
    const VariantDesc* desc = registry.find(name);
    for (const auto& option : desc->options)
      if (option.key == key) {
        out.push_back(name);
        break;
      }
  }
  return out;
}

std::vector<IgnoredSetting> ignored_settings(const Config& config, const Registry* registry, SettingScope scope) {
  const std::vector<std::string> layers = model_layer_variants(config);
  std::map<std::string, const ConditionalSetting*> conditional;
  for (const auto& entry : conditional_settings()) conditional[entry.key] = &entry;

  std::vector<IgnoredSetting> errors;
  for (const auto& def : config.schema().options()) {
    if (!in_scope(def.key, scope) || config.get(def.key) == def.default_value) continue;
    const std::string set_text = def.key + " is set (" + config.get(def.key).to_string() + ")";
    const std::vector<std::string> readers =
        registry ? variants_reading(*registry, def.key) : std::vector<std::string>{};
    if (!readers.empty()) {
      const bool read = std::any_of(readers.begin(), readers.end(), [&](const std::string& r) {
        return std::find(layers.begin(), layers.end(), r) != layers.end();
      });
      if (!read)
        errors.push_back({def.key, set_text + " but no layer of this model reads it: it is read by " + join(readers) +
                         ", and this model's layers are " + join(layers) + "; remove the key or use such a layer"});
      continue;
    }
    auto it = conditional.find(def.key);
    if (it != conditional.end() && !it->second->read(config))
      errors.push_back({def.key, set_text + " but has no effect: it is read only when " + it->second->when});
  }
  return errors;
}

void check_no_ignored_settings(const Config& config, const Registry* registry, SettingScope scope) {
  const auto errors = ignored_settings(config, registry, scope);
  if (errors.size() == 1) throw Error(StatusCode::Config, errors.front().message);
  if (!errors.empty()) {
    std::string text = std::to_string(errors.size()) + " settings would be ignored:";
    for (const auto& e : errors) text += "\n  " + e.message;
    throw Error(StatusCode::Config, text);
  }
}

}  // namespace memtx
