// cli/seed_flags.cpp: translation of the seeds' flags (--n_kv_group 2, --attention_list causal ssm,
// --use_qk_norm) into --set assignments, with "did you mean" suggestions for unknown flags (see
// seed_flags.hpp for the rules).
#include "seed_flags.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "memtx/text.hpp"  // memtx::edit_distance, the one the configuration's suggestions use

namespace memtx_cli {

namespace {

using memtx::join;

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// A word that ends a list value: "--x", "-c"; not a negative number such as "-2" or "-.5".
bool is_option_word(const std::string& w) {
  if (starts_with(w, "--")) return true;
  return w.size() > 1 && w[0] == '-' && !std::isdigit(static_cast<unsigned char>(w[1])) && w[1] != '.';
}

// Words a bool flag takes as its value; memtx_config_set accepts only the true/false ones and names the
// key for the others (yes, 0, ...), which beats reading them as a stray positional word.
bool is_bool_word(const std::string& w) {
  static const std::set<std::string> words = {"true", "True", "TRUE", "false", "False", "FALSE", "yes", "no",
                                              "on", "off", "0", "1"};
  return words.count(w) > 0;
}

std::string name_of(const std::string& key) { return key.substr(key.find('.') + 1); }

// The schema indexed for flag lookup: full keys and bare names (with every key sharing each name).
struct FlagIndex {
  std::map<std::string, const SchemaKey*> by_key;
  std::map<std::string, std::vector<const SchemaKey*>> by_name;

  explicit FlagIndex(const std::vector<SchemaKey>& schema) {
    for (const auto& k : schema) {
      by_key[k.key] = &k;
      by_name[name_of(k.key)].push_back(&k);
    }
  }

  // Flag spellings to suggest: the bare name where it is unique, else the full keys.
  std::vector<std::string> flag_names() const {
    std::vector<std::string> out;
    for (const auto& [name, keys] : by_name) {
      if (keys.size() == 1) {
        out.push_back(name);
      } else {
        for (const auto* k : keys) out.push_back(k->key);
      }
    }
    return out;
  }
};

[[noreturn]] void unknown_flag(const std::string& command, const std::string& written, const std::string& name,
                               const std::set<std::string>& own_options, const FlagIndex& index) {
  std::vector<std::string> candidates(own_options.begin(), own_options.end());
  for (const auto& f : index.flag_names()) candidates.push_back(f);
  if (name.find('.') != std::string::npos)
    for (const auto& [key, k] : index.by_key) candidates.push_back(key);
  std::vector<std::string> near = nearest_names(name, candidates);
  std::string message = "unknown option '" + written + "': neither an option of `memtx-cli " + command +
                        "` nor a config key";
  if (!near.empty()) {
    for (auto& n : near) n = "--" + n;
    message += " (did you mean " + join(near, ", ") + "?)";
  } else {
    message += " (see `memtx-cli " + command + " --help` and `memtx-cli config-reference`)";
  }
  throw CliError(message);
}

}  // namespace

std::vector<SchemaKey> schema_keys_from_json(const std::string& json) {
  std::vector<SchemaKey> out;
  try {
    auto array = nlohmann::json::parse(json);
    if (!array.is_array()) throw CliError("the config schema is not a JSON array");
    for (const auto& entry : array) out.push_back({entry.at("key").get<std::string>(), entry.at("type").get<std::string>()});
  } catch (const nlohmann::json::exception& e) {
    throw CliError(std::string("cannot read the config schema: ") + e.what());
  }
  return out;
}

bool has_config_flags(const std::vector<std::string>& args, const std::set<std::string>& own_options) {
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if (!starts_with(a, "--")) continue;
    const size_t eq = a.find('=');
    const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (!own_options.count(name)) return true;
  }
  return false;
}

SeedTranslation translate_seed_flags(const std::vector<std::string>& args, const std::set<std::string>& own_options,
                                     const std::vector<SchemaKey>& schema) {
  const FlagIndex index(schema);
  const std::string command = args.empty() ? "" : args[0];
  SeedTranslation out;
  if (!args.empty()) out.args.push_back(args[0]);
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--") {
      out.args.insert(out.args.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    if (!starts_with(word, "--")) {  // a value, a positional word or a short option
      out.args.push_back(word);
      continue;
    }
    const size_t eq = word.find('=');
    const std::string written = word.substr(0, eq);
    std::string name = written.substr(2);
    if (own_options.count(name)) {
      out.args.push_back(word);
      continue;
    }
    std::replace(name.begin(), name.end(), '-', '_');
    const SchemaKey* key = nullptr;
    if (name.find('.') != std::string::npos) {
      auto it = index.by_key.find(name);
      if (it != index.by_key.end()) key = it->second;
    } else {
      auto it = index.by_name.find(name);
      if (it != index.by_name.end()) {
        if (it->second.size() > 1) {
          std::vector<std::string> full;
          for (const auto* k : it->second) full.push_back("--" + k->key);
          throw CliError("'" + written + "' is ambiguous: several sections have a key '" + name +
                         "'; write it in full as one of " + join(full, ", "));
        }
        key = it->second.front();
      }
    }
    if (!key) unknown_flag(command, written, name, own_options, index);

    std::string value;
    const bool is_list = starts_with(key->type, "list");
    if (eq != std::string::npos) {
      value = word.substr(eq + 1);
    } else if (key->type == "bool") {
      value = "true";
      if (i + 1 < args.size() && is_bool_word(args[i + 1])) value = args[++i];
    } else if (is_list) {
      std::vector<std::string> items;
      while (i + 1 < args.size() && !is_option_word(args[i + 1])) items.push_back(args[++i]);
      if (items.empty())
        throw CliError(written + " (" + key->key + ") expects one or more values, e.g. " + written + " a b");
      value = join(items, " ");
    } else {
      if (i + 1 >= args.size() || is_option_word(args[i + 1]))
        throw CliError(written + " (" + key->key + ") expects a value (" + key->type + ")");
      value = args[++i];
    }
    out.args.push_back("--set");
    out.args.push_back(key->key + "=" + value);
    out.assignments.push_back({key->key, value, written});
  }
  return out;
}

std::vector<std::string> nearest_names(const std::string& name, const std::vector<std::string>& candidates,
                                       size_t limit) {
  const size_t within = std::max<size_t>(2, name.size() / 3);
  // The lengths' difference bounds the distance from below: a candidate it puts out of reach is never compared
  // character by character, so a hostile flag of a megabyte costs time linear in its length.
  auto distance_within = [&](const std::string& candidate) {
    const size_t gap = name.size() > candidate.size() ? name.size() - candidate.size() : candidate.size() - name.size();
    return gap > within ? SIZE_MAX : memtx::edit_distance(name, candidate);
  };
  std::vector<std::pair<size_t, size_t>> scored;  // (distance, candidate index)
  for (size_t c = 0; c < candidates.size(); ++c) {
    size_t d = distance_within(candidates[c]);
    if (candidates[c].find('.') != std::string::npos && name.find('.') == std::string::npos)
      d = std::min(d, distance_within(name_of(candidates[c])));
    if (d <= within) scored.emplace_back(d, c);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (const auto& [d, c] : scored) {
    if (out.size() >= limit) break;
    if (std::find(out.begin(), out.end(), candidates[c]) == out.end()) out.push_back(candidates[c]);
  }
  return out;
}

}  // namespace memtx_cli
