// model/setting_use.hpp: which settings a model (and its training run) would read, so that a key set to a
// value other than its default that nothing reads is an error instead of a silent no-op
// (docs/config.md: "nothing is silently ignored"). Three kinds of key:
//   variant keys    declared by a registered variant (VariantDesc::options): read only by layers of those
//                   variants ("memory" counts as a layer variant when the model has memory layers);
//   conditional     read by the host only when another setting turns their feature on (the table in
//                   setting_use.cpp: LoRA keys need LoRA, early-stopping keys need early stopping, ...);
//   always          every other key: read by every model or every training run.
// A key counts as set when its value differs from the schema default (a saved config.yaml lists every key).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "memtx/config.hpp"
#include "plugin/registry.hpp"

namespace memtx {

// A key the host reads only under a condition; `when` completes "it is read only when ...".
struct ConditionalSetting {
  std::string key;
  std::string when;
  std::function<bool(const Config&)> read;
};

// Every conditional host key (model, memory and training sections).
MEMTX_API const std::vector<ConditionalSetting>& conditional_settings();

// The variants this config's layers use, in first-use order: attention_list (or attention_variant), plus
// "memory" when memory layers are on.
MEMTX_API std::vector<std::string> model_layer_variants(const Config& config);

// The registered variants that declare `key`, sorted (empty for host keys).
MEMTX_API std::vector<std::string> variants_reading(const Registry& registry, const std::string& key);

enum class SettingScope { Model, Training, All };  // Model: every section but training; Training: training.*

// A key that is set but would not be read, and the message that says so (naming the key, its value and who
// would read it).
struct IgnoredSetting {
  std::string key;
  std::string message;
};

// Every key of the scope that is set but would not be read, in schema order. Empty when every set key has an
// effect. registry null: variant keys are not checked (the training scope has none).
MEMTX_API std::vector<IgnoredSetting> ignored_settings(const Config& config, const Registry* registry,
                                                    SettingScope scope);
// Error(Config) listing ignored_settings when there are any.
MEMTX_API void check_no_ignored_settings(const Config& config, const Registry* registry, SettingScope scope);

}  // namespace memtx
