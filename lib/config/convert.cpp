// config/convert.cpp: turns raw input (a typed Value from set(), or a YAML node from a file or an override)
// into the value stored for an option, enforcing its type, nullability, choices and bounds, and words the
// "expected <what the option takes>, got <what was given>" part of every value error.
#include <cmath>
#include <yaml-cpp/yaml.h>

#include "config/internal.hpp"

namespace memtx::config_detail {

namespace {

std::string number_text(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  return format_float(v);
}

std::string element_expectation(const OptionDef& def) {
  const char* base = def.type == ValueType::IntList ? "int" : "float";
  std::string b = bounds_text(def);
  return b.empty() ? base : std::string(base) + " " + b;
}

std::string choices_text(const OptionDef& def) { return "one of " + join(def.choices, ", "); }

[[noreturn]] void fail(const std::string& expected, const std::string& got, long element = -1) {
  throw ValueError{"expected " + expected + ", got " + got, element};
}

bool in_bounds(const OptionDef& def, double x) {
  if (def.min && (def.min_exclusive ? !(x > *def.min) : !(x >= *def.min))) return false;
  if (def.max && (def.max_exclusive ? !(x < *def.max) : !(x <= *def.max))) return false;
  return true;
}

bool in_choices(const OptionDef& def, const std::string& s) {
  if (def.choices.empty()) return true;
  for (const auto& c : def.choices)
    if (c == s) return true;
  return false;
}

std::string flow_text(const YAML::Node& node) {
  YAML::Emitter em;
  em.SetSeqFormat(YAML::Flow);
  em.SetMapFormat(YAML::Flow);
  em << node;
  std::string s = em.c_str();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

bool plain(const YAML::Node& node) { return node.Tag() == "?"; }

}  // namespace

std::string item_expectation(const OptionDef& def) {
  if (def.type == ValueType::IntList) return element_expectation(def);
  return def.choices.empty() ? "a string" : choices_text(def);
}

std::string bounds_text(const OptionDef& def) {
  if (def.min && def.max)
    return std::string("in ") + (def.min_exclusive ? "(" : "[") + number_text(*def.min) + ", " +
           number_text(*def.max) + (def.max_exclusive ? ")" : "]");
  if (def.min) return std::string(def.min_exclusive ? "> " : ">= ") + number_text(*def.min);
  if (def.max) return std::string(def.max_exclusive ? "< " : "<= ") + number_text(*def.max);
  return "";
}

std::string expectation(const OptionDef& def) {
  // A custom phrase is complete on its own (whether null is allowed is in the option's doc).
  if (!def.expectation.empty()) return def.expectation;
  const std::string b = bounds_text(def);
  std::string out;
  switch (def.type) {
    case ValueType::Null: out = "null"; break;
    case ValueType::Bool: out = "bool (true or false)"; break;
    case ValueType::Int: out = b.empty() ? "int" : "int " + b; break;
    case ValueType::Float: out = b.empty() ? "float" : "float " + b; break;
    case ValueType::String: out = def.choices.empty() ? "a string" : choices_text(def); break;
    case ValueType::IntList: out = "a list of " + element_expectation(def); break;
    case ValueType::StringList:
      out = def.choices.empty() ? "a list of strings" : "a list of strings, each " + choices_text(def);
      break;
  }
  if (def.nullable) out += " or null";
  return out;
}

std::string describe(const Value& v) {
  switch (v.type()) {
    case ValueType::Null: return "null";
    case ValueType::Bool: return v.as_bool() ? "boolean true" : "boolean false";
    case ValueType::String: return "'" + v.as_string() + "'";
    default: return v.to_string();
  }
}

std::string describe_node(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "null";
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (plain(node)) {
      if (auto b = parse_bool(s)) return *b ? "boolean true" : "boolean false";
    }
    return "'" + s + "'";
  }
  if (node.IsSequence()) return "a list " + flow_text(node);
  return "a mapping " + flow_text(node);
}

Value coerce_value(const OptionDef& def, const Value& v) {
  const std::string want = expectation(def);
  if (v.is_null()) {
    if (def.nullable) return Value();
    fail(want, "null");
  }
  switch (def.type) {
    case ValueType::Null: fail(want, describe(v));
    case ValueType::Bool:
      if (v.type() != ValueType::Bool) fail(want, describe(v));
      return v;
    case ValueType::Int: {
      int64_t x = 0;
      if (v.type() == ValueType::Int) {
        x = v.as_int();
      } else if (v.type() == ValueType::Float && std::floor(v.as_float()) == v.as_float() &&
                 std::fabs(v.as_float()) <= 9007199254740992.0) {
        x = static_cast<int64_t>(v.as_float());
      } else {
        fail(want, describe(v));
      }
      if (!in_bounds(def, static_cast<double>(x))) fail(want, std::to_string(x));
      return Value(x);
    }
    case ValueType::Float: {
      if (v.type() != ValueType::Int && v.type() != ValueType::Float) fail(want, describe(v));
      double x = v.as_float();
      if (!std::isfinite(x) || !in_bounds(def, x)) fail(want, describe(Value(x)));
      return Value(x);
    }
    case ValueType::String:
      if (v.type() != ValueType::String) fail(want, describe(v));
      if (!in_choices(def, v.as_string())) fail(want, describe(v));
      return v;
    case ValueType::IntList: {
      if (v.type() != ValueType::IntList) fail(want, describe(v));
      const auto& xs = v.as_int_list();
      for (size_t i = 0; i < xs.size(); ++i)
        if (!in_bounds(def, static_cast<double>(xs[i])))
          fail(item_expectation(def), std::to_string(xs[i]), static_cast<long>(i));
      return v;
    }
    case ValueType::StringList: {
      std::vector<std::string> xs;
      if (v.type() == ValueType::String) {
        xs.push_back(v.as_string());
      } else if (v.type() == ValueType::StringList) {
        xs = v.as_string_list();
      } else {
        fail(want, describe(v));
      }
      for (size_t i = 0; i < xs.size(); ++i)
        if (!in_choices(def, xs[i])) fail(item_expectation(def), "'" + xs[i] + "'", static_cast<long>(i));
      return Value(std::move(xs));
    }
  }
  fail(want, describe(v));
}

namespace {

// A scalar node read as the element/scalar type `type`; throws ValueError (element index `element`).
Value scalar_value(ValueType type, const YAML::Node& node, const std::string& want, long element) {
  if (!node.IsDefined() || node.IsNull()) fail(want, "null", element);
  if (!node.IsScalar()) fail(want, describe_node(node), element);
  const std::string& s = node.Scalar();
  const bool is_plain = plain(node);
  const bool looks_bool = is_plain && parse_bool(s).has_value();
  switch (type) {
    case ValueType::Bool:
      if (auto b = parse_bool(s)) return Value(*b);
      break;
    case ValueType::Int:
      if (looks_bool) break;
      if (auto x = parse_int(s)) return Value(*x);
      break;
    case ValueType::Float:
      if (looks_bool) break;
      if (auto x = parse_float(s)) return Value(*x);
      break;
    case ValueType::String:
      if (looks_bool) break;  // `name: true` is a typo far more often than a name; quote it to mean text
      return Value(s);
    default:
      break;
  }
  fail(want, describe_node(node), element);
}

}  // namespace

Value convert_node(const OptionDef& def, const YAML::Node& node, YAML::Mark* bad_mark) {
  // Never assign yaml-cpp nodes to report the culprit: Node::operator= rebinds the referenced document
  // node. The caller gets the mark of the offending element instead.
  const std::string want = expectation(def);
  if (!node.IsDefined() || node.IsNull()) return coerce_value(def, Value());
  if (node.IsMap()) fail(want, describe_node(node));
  const bool list_type = def.type == ValueType::IntList || def.type == ValueType::StringList;
  if (node.IsSequence() && !list_type) fail(want, describe_node(node));
  if (!list_type) return coerce_value(def, scalar_value(def.type, node, want, -1));

  if (node.IsScalar()) {
    // A single string is a one-element string list (text_field: messages); an int list needs brackets.
    if (def.type == ValueType::IntList) fail(want, describe_node(node));
    return coerce_value(def, scalar_value(ValueType::String, node, want, -1));
  }
  const std::string item_want = item_expectation(def);
  std::vector<int64_t> ints;
  std::vector<std::string> strs;
  try {
    for (size_t i = 0; i < node.size(); ++i) {
      const YAML::Node item = node[i];
      const long idx = static_cast<long>(i);
      if (def.type == ValueType::IntList) {
        ints.push_back(scalar_value(ValueType::Int, item, item_want, idx).as_int());
      } else {
        strs.push_back(scalar_value(ValueType::String, item, item_want, idx).as_string());
      }
    }
    return def.type == ValueType::IntList ? coerce_value(def, Value(std::move(ints)))
                                          : coerce_value(def, Value(std::move(strs)));
  } catch (const ValueError& e) {
    if (bad_mark && e.element >= 0) {
      const YAML::Node item = node[static_cast<size_t>(e.element)];
      if (item.IsDefined() && !item.IsNull()) *bad_mark = item.Mark();
    }
    throw;
  }
}

}  // namespace memtx::config_detail
