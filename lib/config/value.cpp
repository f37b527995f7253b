// config/value.cpp: memtx::Value, the typed value of one configuration key: type names, checked
// accessors and the YAML flow text used in messages, the dumpers and the C API.
#include "config/internal.hpp"

namespace memtx {

const char* value_type_name(ValueType type) {
  switch (type) {
    case ValueType::Null: return "null";
    case ValueType::Bool: return "bool";
    case ValueType::Int: return "int";
    case ValueType::Float: return "float";
    case ValueType::String: return "string";
    case ValueType::IntList: return "list of int";
    case ValueType::StringList: return "list of string";
  }
  return "unknown";
}

namespace {

[[noreturn]] void wrong_type(const Value& v, ValueType wanted) {
  std::string got = v.is_null() ? "null" : std::string(value_type_name(v.type())) + " " + config_detail::describe(v);
  throw Error(StatusCode::Config, std::string("value type mismatch: wanted ") + value_type_name(wanted) + ", got " + got);
}

}  // namespace

bool Value::as_bool() const {
  if (auto p = std::get_if<bool>(&data_)) return *p;
  wrong_type(*this, ValueType::Bool);
}

int64_t Value::as_int() const {
  if (auto p = std::get_if<int64_t>(&data_)) return *p;
  wrong_type(*this, ValueType::Int);
}

double Value::as_float() const {
  if (auto p = std::get_if<double>(&data_)) return *p;
  if (auto p = std::get_if<int64_t>(&data_)) return static_cast<double>(*p);
  wrong_type(*this, ValueType::Float);
}

const std::string& Value::as_string() const {
  if (auto p = std::get_if<std::string>(&data_)) return *p;
  wrong_type(*this, ValueType::String);
}

const std::vector<int64_t>& Value::as_int_list() const {
  if (auto p = std::get_if<std::vector<int64_t>>(&data_)) return *p;
  wrong_type(*this, ValueType::IntList);
}

const std::vector<std::string>& Value::as_string_list() const {
  if (auto p = std::get_if<std::vector<std::string>>(&data_)) return *p;
  wrong_type(*this, ValueType::StringList);
}

std::string Value::to_string() const {
  using config_detail::needs_quotes;
  using config_detail::quote;
  auto text = [](const std::string& s) { return needs_quotes(s) ? quote(s) : s; };
  switch (type()) {
    case ValueType::Null: return "null";
    case ValueType::Bool: return std::get<bool>(data_) ? "true" : "false";
    case ValueType::Int: return std::to_string(std::get<int64_t>(data_));
    case ValueType::Float: return config_detail::format_float(std::get<double>(data_));
    case ValueType::String: return text(std::get<std::string>(data_));
    case ValueType::IntList: {
      std::string out = "[";
      const auto& xs = std::get<std::vector<int64_t>>(data_);
      for (size_t i = 0; i < xs.size(); ++i) out += (i ? ", " : "") + std::to_string(xs[i]);
      return out + "]";
    }
    case ValueType::StringList: {
      std::string out = "[";
      const auto& xs = std::get<std::vector<std::string>>(data_);
      for (size_t i = 0; i < xs.size(); ++i) out += (i ? ", " : "") + text(xs[i]);
      return out + "]";
    }
  }
  return "";
}

}  // namespace memtx
