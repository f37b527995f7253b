// config/validate.cpp: Config::validate(), which runs the schema's cross-field rules (each value alone was
// checked when it was set) and then the rules every schema has (common_rules(): no empty strings). All
// broken rules are reported together, each naming the keys and their values. The builtin schema's rules
// are in rules_builtin.cpp; markdown_reference() lists the same rules' texts.
#include "config/internal.hpp"

namespace memtx {

namespace config_detail {

const std::vector<ConfigRule>& common_rules() {
  static const std::vector<ConfigRule> rules = {
      {"No string value or list entry is the empty string (use null where a key allows it).",
       {},
       [](const Config& c, std::vector<std::string>& err) {
         for (const auto& d : c.schema().options()) {
           const Value& v = c.get(d.key);
           if (v.type() == ValueType::String && v.as_string().empty())
             err.push_back(d.key + " must not be the empty string" + (d.nullable ? " (use null for none)" : ""));
           if (v.type() == ValueType::StringList) {
             const auto& xs = v.as_string_list();
             for (size_t i = 0; i < xs.size(); ++i)
               if (xs[i].empty()) err.push_back(d.key + "[" + std::to_string(i) + "] must not be the empty string");
           }
         }
       }},
  };
  return rules;
}

}  // namespace config_detail

void Config::validate() const {
  std::vector<std::string> errors;
  auto run = [&](const ConfigRule& rule) {
    // A rule reading a key the schema lacks does not apply (a custom schema with only some keys).
    for (const auto& key : rule.keys)
      if (!schema_->find(key)) return;
    rule.check(*this, errors);
  };
  for (const auto& rule : schema_->rules()) run(rule);
  for (const auto& rule : config_detail::common_rules()) run(rule);

  if (errors.size() == 1) throw Error(StatusCode::Config, errors.front());
  if (!errors.empty())
    throw Error(StatusCode::Config, std::to_string(errors.size()) + " configuration errors:\n  " +
                                        join(errors, "\n  "));
}

}  // namespace memtx
