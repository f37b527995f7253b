// config/config.cpp: memtx::Config values: construction at the defaults, typed set(), text overrides
// (set_from_string, apply_override "key=value" as the CLI and memtx_config_set use) and the getters.
#include <yaml-cpp/yaml.h>

#include "config/internal.hpp"

namespace memtx {

using config_detail::ValueError;

namespace {

std::string located(const std::string& key, const ValueError& e) {
  std::string where = key;
  if (e.element >= 0) where += "[" + std::to_string(e.element) + "]";
  return where + ": " + e.message;
}

// A list given on the command line without brackets: "causal,ssm", "causal ssm", "0, 1, 5".
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == ',' || c == ' ' || c == '\t') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace

Config::Config(std::shared_ptr<const Schema> schema) : schema_(std::move(schema)) {
  if (!schema_) throw Error(StatusCode::InvalidArgument, "Config: the schema is null");
  for (const auto& d : schema_->options()) values_[d.key] = d.default_value;
}

void Config::set(const std::string& key, const Value& value) {
  const OptionDef* def = schema_->find(key);
  if (!def) throw Error(StatusCode::Config, config_detail::unknown_key_message(*schema_, key));
  try {
    values_[key] = config_detail::coerce_value(*def, value);
  } catch (const ValueError& e) {
    throw Error(StatusCode::Config, located(key, e));
  }
  explicit_[key] = true;
}

void Config::set_from_string(const std::string& key_in, const std::string& text_in) {
  const std::string key = schema_->find(key_in) ? key_in : schema_->resolve_key(key_in);
  const OptionDef& def = *schema_->find(key);
  const std::string text = config_detail::trim(text_in);
  Value value;
  try {
    const bool list = def.type == ValueType::IntList || def.type == ValueType::StringList;
    if (list && !text.empty() && text.front() != '[' && !config_detail::is_null_text(text)) {
      std::vector<std::string> items = split_list(text);
      if (def.type == ValueType::StringList) {
        for (size_t i = 0; i < items.size(); ++i)  // as in a file: an unquoted true/false is not a name
          if (auto b = config_detail::parse_bool(items[i]))
            throw ValueError{"expected " + config_detail::item_expectation(def) + ", got boolean " +
                                 (*b ? "true" : "false"),
                             static_cast<long>(i)};
        value = config_detail::coerce_value(def, Value(items));
      } else {
        std::vector<int64_t> ints;
        for (size_t i = 0; i < items.size(); ++i) {
          auto x = config_detail::parse_int(items[i]);
          if (!x)
            throw ValueError{"expected " + config_detail::item_expectation(def) + ", got '" + items[i] + "'",
                             static_cast<long>(i)};
          ints.push_back(*x);
        }
        value = config_detail::coerce_value(def, Value(std::move(ints)));
      }
    } else {
      YAML::Node node;
      bool parsed = true;
      try {
        node = YAML::Load(text);
      } catch (const YAML::Exception&) {
        parsed = false;
      }
      if (def.type == ValueType::String && (!parsed || node.IsMap())) {
        value = config_detail::coerce_value(def, Value(text));  // "a: b" is text here, not a mapping
      } else if (!parsed) {
        throw ValueError{"expected " + config_detail::expectation(def) + ", got '" + text + "'", -1};
      } else {
        value = config_detail::convert_node(def, node, nullptr);
      }
    }
  } catch (const ValueError& e) {
    throw Error(StatusCode::Config, located(key, e));
  }
  values_[key] = std::move(value);
  explicit_[key] = true;
}

void Config::apply_override(const std::string& assignment) {
  size_t eq = assignment.find('=');
  std::string key = eq == std::string::npos ? "" : config_detail::trim(assignment.substr(0, eq));
  if (key.empty())
    throw Error(StatusCode::Config,
                "override '" + assignment + "': expected key=value, e.g. model.hidden_dim=256");
  set_from_string(schema_->resolve_key(key), assignment.substr(eq + 1));
}

const Value& Config::get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw Error(StatusCode::Config, config_detail::unknown_key_message(*schema_, key));
  return it->second;
}

namespace {

// The value of `key` after checking that the option has one of the accepted types.
const Value& typed(const Config& c, const std::string& key, std::initializer_list<ValueType> types,
                   const char* wanted) {
  const Value& v = c.get(key);
  const OptionDef* def = c.schema().find(key);
  for (ValueType t : types)
    if (def && def->type == t) return v;
  throw Error(StatusCode::Config, key + " holds " + value_type_name(def ? def->type : v.type()) +
                                      " values; it cannot be read as " + wanted);
}

const Value& non_null(const Value& v, const std::string& key) {
  if (v.is_null()) throw Error(StatusCode::Config, key + " is null; read it with the get_opt_ form");
  return v;
}

}  // namespace

bool Config::get_bool(const std::string& key) const {
  return non_null(typed(*this, key, {ValueType::Bool}, "a bool"), key).as_bool();
}

int64_t Config::get_int(const std::string& key) const {
  return non_null(typed(*this, key, {ValueType::Int}, "an int"), key).as_int();
}

double Config::get_float(const std::string& key) const {
  return non_null(typed(*this, key, {ValueType::Float, ValueType::Int}, "a float"), key).as_float();
}

std::string Config::get_string(const std::string& key) const {
  return non_null(typed(*this, key, {ValueType::String}, "a string"), key).as_string();
}

std::optional<int64_t> Config::get_opt_int(const std::string& key) const {
  const Value& v = typed(*this, key, {ValueType::Int}, "an int");
  if (v.is_null()) return std::nullopt;
  return v.as_int();
}

std::optional<double> Config::get_opt_float(const std::string& key) const {
  const Value& v = typed(*this, key, {ValueType::Float, ValueType::Int}, "a float");
  if (v.is_null()) return std::nullopt;
  return v.as_float();
}

std::optional<std::string> Config::get_opt_string(const std::string& key) const {
  const Value& v = typed(*this, key, {ValueType::String}, "a string");
  if (v.is_null()) return std::nullopt;
  return v.as_string();
}

std::vector<int64_t> Config::get_int_list(const std::string& key) const {
  const Value& v = typed(*this, key, {ValueType::IntList}, "a list of int");
  if (v.is_null()) return {};
  return v.as_int_list();
}

std::vector<std::string> Config::get_string_list(const std::string& key) const {
  const Value& v = typed(*this, key, {ValueType::StringList}, "a list of string");
  if (v.is_null()) return {};
  return v.as_string_list();
}

bool Config::is_set(const std::string& key) const {
  get(key);  // unknown keys are errors, not "not set"
  auto it = explicit_.find(key);
  return it != explicit_.end() && it->second;
}

}  // namespace memtx
