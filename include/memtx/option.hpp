// memtx/option.hpp: memtx::Option, a fluent builder of OptionDef so that a key reads as one statement, in the
// builtin schema and in plugins alike:
//   Option("attention.linear_chunk_size", ValueType::Int, 64).min(1).by("linear").doc("...")
// converts to the OptionDef (type, default, bounds, choices, doc, reader) that Schema::add and
// VariantDesc::options take. A null default makes the key nullable.
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

}  // namespace memtx
