// config/dump.cpp: writing the resolved configuration (every key, grouped by section, in schema order) as
// YAML (checkpoints' config.yaml, `verify-config`) or JSON (the C API). Both read back to the same values, except
// that bytes of a string which are not UTF-8 (a path may hold them) are written, in both, as U+FFFD.
#include <nlohmann/json.hpp>

#include "config/internal.hpp"
#include "memtx/text.hpp"

namespace memtx {

namespace {

void emit_string(YAML::Emitter& em, const std::string& value) {
  const std::string s = valid_utf8(value);
  if (config_detail::needs_quotes(s)) {
    em << YAML::DoubleQuoted << s;
  } else {
    em << s;
  }
}

void emit_value(YAML::Emitter& em, const Value& v) {
  switch (v.type()) {
    case ValueType::Null: em << YAML::Null; break;
    case ValueType::Bool: em << v.as_bool(); break;
    case ValueType::Int: em << v.as_int(); break;
    case ValueType::Float: em << config_detail::format_float(v.as_float()); break;  // plain, exact text
    case ValueType::String: emit_string(em, v.as_string()); break;
    case ValueType::IntList:
      em << YAML::Flow << YAML::BeginSeq;
      for (int64_t x : v.as_int_list()) em << x;
      em << YAML::EndSeq;
      break;
    case ValueType::StringList:
      em << YAML::Flow << YAML::BeginSeq;
      for (const auto& s : v.as_string_list()) emit_string(em, s);
      em << YAML::EndSeq;
      break;
  }
}

nlohmann::ordered_json json_value(const Value& v) {
  switch (v.type()) {
    case ValueType::Null: return nullptr;
    case ValueType::Bool: return v.as_bool();
    case ValueType::Int: return v.as_int();
    case ValueType::Float: return v.as_float();
    case ValueType::String: return valid_utf8(v.as_string());
    case ValueType::IntList: return v.as_int_list();
    case ValueType::StringList: {
      nlohmann::ordered_json items = nlohmann::ordered_json::array();
      for (const std::string& s : v.as_string_list()) items.push_back(valid_utf8(s));
      return items;
    }
  }
  return nullptr;
}

}  // namespace

std::string Config::to_yaml() const {
  YAML::Emitter em;
  em.SetNullFormat(YAML::LowerNull);
  em << YAML::BeginMap;
  for (const auto& section : schema_->sections()) {
    em << YAML::Key << section << YAML::Value << YAML::BeginMap;
    for (const auto& d : schema_->options()) {
      if (config_detail::section_of(d.key) != section) continue;
      em << YAML::Key << config_detail::name_of(d.key) << YAML::Value;
      emit_value(em, get(d.key));
    }
    em << YAML::EndMap;
  }
  em << YAML::EndMap;
  return std::string(em.c_str()) + "\n";
}

std::string Config::to_json() const {
  nlohmann::ordered_json root = nlohmann::ordered_json::object();
  for (const auto& section : schema_->sections()) {
    nlohmann::ordered_json obj = nlohmann::ordered_json::object();
    for (const auto& d : schema_->options())
      if (config_detail::section_of(d.key) == section) obj[config_detail::name_of(d.key)] = json_value(get(d.key));
    root[section] = std::move(obj);
  }
  return root.dump(2) + "\n";
}

}  // namespace memtx
