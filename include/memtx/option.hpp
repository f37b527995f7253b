// memtx/option.hpp: memtx::Option, a fluent builder of OptionDef so that a key reads as one statement, in the
// builtin schema and in plugins alike:
//   Option("attention.linear_chunk_size", ValueType::Int, 64).min(1).by("linear").doc("...")
// converts to the OptionDef (type, default, bounds, choices, doc, reader) that Schema::add and
// VariantDesc::options take. A null default makes the key nullable. VariantKeys is what a plugin declares
// for a variant: the keys it reads and the cross-field rules over them (plugins/<name>/<name>_keys.cpp;
// those files include no LibTorch, so the torch-free config tests build the shipped schema from them).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "memtx/config.hpp"

namespace memtx {

class Option {
 public:
  Option(const char* key, ValueType type, Value default_value) {
    def_.key = key;
    def_.type = type;
    def_.default_value = std::move(default_value);
    def_.nullable = def_.default_value.is_null();
  }
  Option& nullable() { def_.nullable = true; return *this; }
  Option& min(double v) { def_.min = v; return *this; }
  Option& above(double v) { def_.min = v; def_.min_exclusive = true; return *this; }  // value > v
  Option& max(double v) { def_.max = v; return *this; }
  Option& below(double v) { def_.max = v; def_.max_exclusive = true; return *this; }  // value < v
  Option& choices(std::vector<std::string> c) { def_.choices = std::move(c); return *this; }
  Option& expect(const char* text) { def_.expectation = text; return *this; }
  Option& doc(const char* text) { def_.doc = text; return *this; }
  Option& by(const char* reader) { def_.used_by = reader; return *this; }
  const OptionDef& def() const { return def_; }
  operator OptionDef() const { return def_; }  // NOLINT: an Option is written where an OptionDef is expected

 private:
  OptionDef def_;
};

struct VariantKeys {
  std::vector<OptionDef> options;
  std::vector<ConfigRule> rules;

  VariantKeys& add(const VariantKeys& more) {
    options.insert(options.end(), more.options.begin(), more.options.end());
    rules.insert(rules.end(), more.rules.begin(), more.rules.end());
    return *this;
  }
  VariantKeys& add(const std::vector<OptionDef>& more) {
    options.insert(options.end(), more.begin(), more.end());
    return *this;
  }
};

// Adds the keys (Schema::add: an identical re-definition is a no-op) and then the rules to `schema`, as the
// host does when it loads the plugin that declares them.
inline void add_variant_keys(Schema& schema, const VariantKeys& keys) {
  for (const OptionDef& def : keys.options) schema.add(def);
  for (const ConfigRule& rule : keys.rules) schema.add_rule(rule);
}

}  // namespace memtx
