// config/schema.cpp: memtx::Schema, the table of option definitions: adding (with consistency checks),
// lookup, the list of sections, "did you mean" suggestions, bare-name resolution for CLI flags, and the
// list of cross-field rules (add_rule).
#include <algorithm>
#include <cctype>

#include "config/internal.hpp"
#include "memtx/text.hpp"

namespace memtx {

namespace {

bool valid_part(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

// |len(a) - len(b)|, a lower bound of their edit distance.
size_t length_gap(const std::string& a, const std::string& b) {
  return a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string describe_def(const OptionDef& d) {
  std::string out = value_type_name(d.type);
  out += ", default " + d.default_value.to_string();
  if (d.nullable) out += ", nullable";
  if (!d.choices.empty()) out += ", one of " + join(d.choices, ", ");
  std::string b = config_detail::bounds_text(d);
  if (!b.empty()) out += ", " + b;
  return out;
}

bool same_definition(const OptionDef& a, const OptionDef& b) {
  return a.type == b.type && a.default_value == b.default_value && a.nullable == b.nullable &&
         a.choices == b.choices && a.min == b.min && a.max == b.max && a.min_exclusive == b.min_exclusive &&
         a.max_exclusive == b.max_exclusive;
}

}  // namespace

void Schema::add(const OptionDef& def_in) {
  OptionDef def = def_in;
  const std::string& key = def.key;
  size_t dot = key.find('.');
  if (dot == std::string::npos || key.find('.', dot + 1) != std::string::npos ||
      !valid_part(key.substr(0, dot)) || !valid_part(key.substr(dot + 1)))
    throw Error(StatusCode::InvalidArgument,
                "option key '" + key + "' is malformed: expected '<section>.<name>' in lower case letters, "
                "digits and '_'");
  if (def.type == ValueType::Null)
    throw Error(StatusCode::InvalidArgument, "option '" + key + "': the type cannot be null");
  const bool numeric = def.type == ValueType::Int || def.type == ValueType::Float || def.type == ValueType::IntList;
  if (!def.choices.empty() && def.type != ValueType::String && def.type != ValueType::StringList)
    throw Error(StatusCode::InvalidArgument, "option '" + key + "': choices are only for string options");
  if ((def.min || def.max) && !numeric)
    throw Error(StatusCode::InvalidArgument, "option '" + key + "': bounds are only for numeric options");
  if (def.min && def.max && *def.min > *def.max)
    throw Error(StatusCode::InvalidArgument, "option '" + key + "': min is greater than max");
  if (def.default_value.is_null() && !def.nullable)
    throw Error(StatusCode::InvalidArgument,
                "option '" + key + "': the default is null but the option is not nullable");
  try {
    def.default_value = config_detail::coerce_value(def, def.default_value);
  } catch (const config_detail::ValueError& e) {
    throw Error(StatusCode::InvalidArgument, "option '" + key + "': bad default: " + e.message);
  }

  auto it = index_.find(key);
  if (it != index_.end()) {
    const OptionDef& old = options_[it->second];
    if (old.type != def.type)
      throw Error(StatusCode::Duplicate, "option '" + key + "' is already declared as " +
                                             value_type_name(old.type) + "; cannot declare it again as " +
                                             value_type_name(def.type));
    if (!same_definition(old, def))
      throw Error(StatusCode::Duplicate, "option '" + key + "' is already declared differently (" +
                                             describe_def(old) + "; new: " + describe_def(def) + ")");
    return;  // identical: keep the first documentation
  }
  index_[key] = options_.size();
  options_.push_back(std::move(def));
}

const OptionDef* Schema::find(const std::string& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &options_[it->second];
}

void Schema::add_rule(ConfigRule rule) {
  if (rule.text.empty()) throw Error(StatusCode::InvalidArgument, "configuration rule: the text is empty");
  if (!rule.check)
    throw Error(StatusCode::InvalidArgument, "configuration rule '" + rule.text + "': the check is empty");
  for (const auto& r : rules_)
    if (r.text == rule.text) return;  // already declared (a plugin repeating a rule of the schema it extends)
  rules_.push_back(std::move(rule));
}

std::vector<std::string> Schema::sections() const {
  std::vector<std::string> out;
  for (const auto& d : options_) {
    std::string s = config_detail::section_of(d.key);
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out;
}

std::string Schema::nearest_key(const std::string& key_in) const {
  using config_detail::name_of;
  using config_detail::section_of;
  const std::string key = lower(config_detail::trim(key_in));
  const std::string bare = name_of(key);
  const std::string section = section_of(key);
  if (bare.empty()) return "";
  const size_t limit = std::max<size_t>(2, bare.size() / 3);
  std::string best;
  size_t best_score = limit + 1, best_full = SIZE_MAX;
  bool best_same_section = false;
  for (const auto& d : options_) {
    // The lengths' difference is a lower bound of the distance: a candidate it puts out of reach costs
    // nothing, so a hostile key of a megabyte is not compared character by character with every key.
    const std::string name = name_of(d.key);
    if (length_gap(bare, name) > limit && length_gap(key, d.key) > limit) continue;
    size_t by_name = edit_distance(bare, name);
    size_t full = edit_distance(key, d.key);
    size_t score = std::min(by_name, full);
    bool same_section = !section.empty() && section_of(d.key) == section;
    // Best score first, then a key of the section the user wrote, then the closest full key.
    bool better = score < best_score ||
                  (score == best_score && same_section && !best_same_section) ||
                  (score == best_score && same_section == best_same_section && full < best_full);
    if (score <= limit && better) {
      best = d.key;
      best_score = score;
      best_full = full;
      best_same_section = same_section;
    }
  }
  return best;
}

std::string Schema::resolve_key(const std::string& name_or_key) const {
  const std::string name = config_detail::trim(name_or_key);
  if (name.find('.') != std::string::npos) {
    if (find(name)) return name;
    throw Error(StatusCode::Config, config_detail::unknown_key_message(*this, name));
  }
  std::vector<std::string> matches;
  for (const auto& d : options_)
    if (config_detail::name_of(d.key) == name) matches.push_back(d.key);
  if (matches.size() == 1) return matches.front();
  if (matches.size() > 1)
    throw Error(StatusCode::Config, "ambiguous key '" + name + "': write it in full as one of " +
                                        join(matches, ", "));
  throw Error(StatusCode::Config, config_detail::unknown_key_message(*this, name));
}

namespace config_detail {

std::string unknown_key_message(const Schema& schema, const std::string& key) {
  std::string msg = "unknown key '" + shown_name(key) + "'";
  std::string near = schema.nearest_key(key);
  if (!near.empty()) msg += " (did you mean '" + near + "'?)";
  return msg;
}

std::string nearest_section(const Schema& schema, const std::string& name) {
  const std::string n = lower(name);
  const size_t limit = std::max<size_t>(2, n.size() / 3);
  std::string best;
  size_t best_d = limit + 1;
  for (const auto& s : schema.sections()) {
    if (length_gap(n, s) > limit) continue;  // out of reach (see Schema::nearest_key)
    size_t d = edit_distance(n, s);
    if (d < best_d) {
      best = s;
      best_d = d;
    }
  }
  return best;
}

}  // namespace config_detail

}  // namespace memtx
