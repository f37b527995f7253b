// data/jinja_value.hpp: the values of the chat-template engine (data/jinja_template.hpp): Jinja's undefined,
// none, booleans, integers, floats, strings, lists, dicts (string keys, insertion order), namespaces and
// macros, with Python's printing (str), truthiness, equality and ordering, and JSON in and out (tojson).
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace memtx::data::jinja {

struct Value;
struct MacroDef;
using List = std::vector<Value>;
using Dict = std::vector<std::pair<std::string, Value>>;

struct Value {
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Macro };
  Kind kind = Kind::Undefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                      // String; Undefined: the name that was looked up (for messages)
  std::shared_ptr<List> list;         // List
  std::shared_ptr<Dict> dict;         // Dict, Namespace (shared: `ns.x = ...` changes every copy)
  std::shared_ptr<const MacroDef> macro;

  static Value undefined(std::string name = "") { Value v; v.s = std::move(name); return v; }
  static Value none() { Value v; v.kind = Kind::None; return v; }
  static Value boolean(bool x) { Value v; v.kind = Kind::Bool; v.b = x; return v; }
  static Value integer(int64_t x) { Value v; v.kind = Kind::Int; v.i = x; return v; }
  static Value real(double x) { Value v; v.kind = Kind::Float; v.f = x; return v; }
  static Value string(std::string x) { Value v; v.kind = Kind::String; v.s = std::move(x); return v; }
  static Value list_of(List x) { Value v; v.kind = Kind::List; v.list = std::make_shared<List>(std::move(x)); return v; }
  static Value dict_of(Dict x) { Value v; v.kind = Kind::Dict; v.dict = std::make_shared<Dict>(std::move(x)); return v; }

  bool is_undefined() const { return kind == Kind::Undefined; }
  bool is_number() const { return kind == Kind::Int || kind == Kind::Float || kind == Kind::Bool; }
  bool is_mapping() const { return kind == Kind::Dict || kind == Kind::Namespace; }
  double number() const { return kind == Kind::Float ? f : kind == Kind::Bool ? (b ? 1 : 0) : double(i); }

  // The entry named key of a dict or namespace (nullptr when absent or not a mapping).
  const Value* find(const std::string& key) const;
  // Sets key in a dict or namespace (replacing an entry of that name).
  void set(const std::string& key, Value value);
};

// Python's truth value (undefined, none, 0, "", [] and {} are false).
bool truthy(const Value& v);
// The type name in messages ("string", "list", ...).
const char* kind_name(const Value& v);
// Python's str(v): None, True, 1.5, ['a', 1], {'k': 'v'}; undefined prints as "".
std::string to_str(const Value& v);
// Python's repr(v) (strings quoted).
std::string repr(const Value& v);
// Python's ==, and < for numbers, strings and lists (false when the kinds cannot be ordered: *ok = false).
bool equal(const Value& a, const Value& b);
bool less(const Value& a, const Value& b, bool* ok);
// Python's float repr (1.0, 0.1, 1e+20).
std::string float_repr(double x);
// JSON text as Python's json.dumps(v, ensure_ascii=False, indent=indent, sort_keys=sort_keys) writes it
// (indent < 0: one line with ", " and ": "). Undefined is an error (ok = false).
std::string to_json(const Value& v, int indent, bool sort_keys, bool* ok);
// A JSON value as a template value (objects keep their key order).
Value from_json(const nlohmann::ordered_json& j);
// The number of code points of UTF-8 text, and its code points as separate strings.
size_t utf8_length(const std::string& s);
std::vector<std::string> utf8_chars(const std::string& s);

}  // namespace memtx::data::jinja
