// memtx/config.hpp: typed configuration values, the option schema with its cross-field rules, and the
// resolved configuration. One schema describes every key (type, default, allowed values, bounds,
// documentation). The YAML/JSON loader, `--set key=value` overrides, the CLI flags, memtx_config_set,
// verify-config and the generated reference (docs/config.md) all go through it. Keys are dotted:
// "<section>.<name>", e.g. "model.hidden_dim". Sections: model, attention, memory, training, infini_attention.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "memtx/error.hpp"
#include "memtx/export.h"

namespace memtx {

enum class ValueType { Null, Bool, Int, Float, String, IntList, StringList };
MEMTX_API const char* value_type_name(ValueType type);  // "bool", "int", "float", "string", "list of int", ...

class MEMTX_API Value {
 public:
  using Storage = std::variant<std::monostate, bool, int64_t, double, std::string, std::vector<int64_t>,
                               std::vector<std::string>>;
  Value() = default;
  Value(bool v) : data_(v) {}
  Value(int v) : data_(static_cast<int64_t>(v)) {}
  Value(int64_t v) : data_(v) {}
  Value(double v) : data_(v) {}
  Value(const char* v) : data_(std::string(v)) {}
  Value(std::string v) : data_(std::move(v)) {}
  Value(std::vector<int64_t> v) : data_(std::move(v)) {}
  Value(std::vector<std::string> v) : data_(std::move(v)) {}

  ValueType type() const { return static_cast<ValueType>(data_.index()); }
  bool is_null() const { return data_.index() == 0; }
  // Accessors throw Error(Config) when the stored type differs (as_float also accepts an int).
  bool as_bool() const;
  int64_t as_int() const;
  double as_float() const;
  const std::string& as_string() const;
  const std::vector<int64_t>& as_int_list() const;
  const std::vector<std::string>& as_string_list() const;
  std::string to_string() const;  // YAML flow text: null, true, 12, 0.5, text, [a, b]
  bool operator==(const Value& other) const { return data_ == other.data_; }
  bool operator!=(const Value& other) const { return !(*this == other); }

 private:
  Storage data_;
};

struct OptionDef {
  std::string key;                   // dotted, "attention.use_qk_norm"
  ValueType type = ValueType::Bool;  // never Null
  Value default_value;               // Null when the default is null
  bool nullable = false;             // null accepted (as default or as set value)
  std::vector<std::string> choices;  // allowed strings (String, StringList); empty = any
  std::optional<double> min;         // inclusive bounds for Int/Float and each list element
  std::optional<double> max;
  std::string doc;                   // one or two sentences for the reference
  std::string used_by;               // which component reads it ("model", "causal", "trainer", ...)
  bool min_exclusive = false;        // min is a strict bound (value > min), e.g. an epsilon
  bool max_exclusive = false;        // max is a strict bound (value < max), e.g. a dropout rate
  std::string expectation;           // optional complete phrase for "expected ..." in messages (replaces the
                                     // generated "float > 0 or null") and the reference's "allowed" column
};

class Config;

// A cross-field rule of Config::validate(): `check` appends one message per broken condition to `errors`
// (naming the keys and their values). `keys` lists every key the check reads; the rule is skipped when the
// schema lacks one of them, so a schema with only some keys still validates. `text` is the rule's sentence
// in the reference (Markdown, one bullet of "Cross-field rules" in docs/config.md).
struct ConfigRule {
  std::string text;
  std::vector<std::string> keys;
  std::function<void(const Config&, std::vector<std::string>& errors)> check;
};

class MEMTX_API Schema {
 public:
  // Every key of the seed documents plus memtx's own; see docs/config.md.
  static const Schema& builtin();

  // Throws Error(Duplicate) if the key exists with a different type (or a different default, nullability,
  // choices or bounds), Error(InvalidArgument) if malformed. Re-adding an identical definition is a no-op
  // (plugins may declare keys the builtin schema has); differences in doc/used_by keep the first text.
  void add(const OptionDef& def);
  const OptionDef* find(const std::string& key) const;
  const std::vector<OptionDef>& options() const { return options_; }
  std::vector<std::string> sections() const;
  // The closest known key by edit distance (searching names in every section), or "" when none is close.
  std::string nearest_key(const std::string& key) const;
  // "n_kv_group" -> "attention.n_kv_group" when the bare name is unique across sections; a dotted key is
  // returned as is when known. Error(Config) (with a suggestion) otherwise. Used by CLI flags.
  std::string resolve_key(const std::string& name_or_key) const;
  // Markdown reference of every key, grouped by section, then the cross-field rules (docs/config.md is
  // this text for the builtin schema).
  std::string markdown_reference() const;

  // Cross-field rules, run by Config::validate() in the order added (the builtin schema registers its own,
  // plugins may add more). Copying a Schema copies its rules. Error(InvalidArgument) when the text or the
  // check is empty; a rule with the text of one already added is ignored (re-adding is a no-op).
  void add_rule(ConfigRule rule);
  const std::vector<ConfigRule>& rules() const { return rules_; }

 private:
  std::vector<OptionDef> options_;
  std::map<std::string, size_t> index_;
  std::vector<ConfigRule> rules_;
};

class MEMTX_API Config {
 public:
  // Every key at its default.
  explicit Config(std::shared_ptr<const Schema> schema);

  // Load YAML (or JSON) text/file. Unknown sections/keys, wrong types, values outside choices/bounds and
  // malformed text raise Error(Config) whose message names the file, line, key, value and expectation, and
  // suggests the nearest key for misspellings. A missing file raises Error(NotFound).
  static Config from_file(std::shared_ptr<const Schema> schema, const std::string& path);
  static Config from_string(std::shared_ptr<const Schema> schema, const std::string& text,
                            const std::string& origin = "<string>");
  // Apply another document on top (later files override earlier ones).
  void merge_string(const std::string& text, const std::string& origin);

  void set(const std::string& key, const Value& value);              // type-checked
  void set_from_string(const std::string& key, const std::string& text);  // parses text for the key's type
  void apply_override(const std::string& assignment);               // "model.hidden_dim=256"

  const Value& get(const std::string& key) const;  // Error(Config) for an unknown key
  bool get_bool(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  std::string get_string(const std::string& key) const;
  std::optional<int64_t> get_opt_int(const std::string& key) const;
  std::optional<double> get_opt_float(const std::string& key) const;
  std::optional<std::string> get_opt_string(const std::string& key) const;
  std::vector<int64_t> get_int_list(const std::string& key) const;        // empty when null
  std::vector<std::string> get_string_list(const std::string& key) const;  // empty when null
  bool is_set(const std::string& key) const;  // explicitly given (by a file, override or set)

  // Runs every rule of the schema (heads divisible by kv groups, indices within num_layers, top_k <=
  // num_chapters, ...), then checks that no string value or list entry is empty. Throws Error(Config) with
  // the one broken rule's message, or "N configuration errors:" and one message per line.
  void validate() const;

  std::string to_yaml() const;  // the resolved config, every key, grouped by section
  std::string to_json() const;
  const Schema& schema() const { return *schema_; }
  std::shared_ptr<const Schema> schema_ptr() const { return schema_; }

 private:
  std::shared_ptr<const Schema> schema_;
  std::map<std::string, Value> values_;
  std::map<std::string, bool> explicit_;
};

// True when the model has memory cross-attention layers: memory.vanilla_mode is false,
// memory.use_memory_adapter or memory.use_both_memory_and_lora is true, and memory.memory_layer_placement
// is not "none". Reads those four keys (Error(Config) when the schema lacks one).
MEMTX_API bool memory_layers_enabled(const Config& config);

}  // namespace memtx
