// config/loader.cpp: reading YAML or JSON documents (JSON is read by the YAML parser) into a Config.
// Every problem is an Error(Config) that starts with "<origin>:<line>: " and names the key, the value and
// what was expected; a document is applied all or nothing.
#include <algorithm>
#include <filesystem>
#include <map>

#include "config/internal.hpp"
#include "memtx/read_file.hpp"

namespace memtx {

namespace {

namespace fs = std::filesystem;

int line_of(const YAML::Mark& m) { return m.line >= 0 ? m.line + 1 : 0; }

[[noreturn]] void fail_at(const std::string& origin, const YAML::Mark& mark, const std::string& message) {
  std::string where = origin;
  if (line_of(mark) > 0) where += ":" + std::to_string(line_of(mark));
  throw Error(StatusCode::Config, where + ": " + message);
}

std::string section_list(const Schema& schema) { return join(schema.sections(), ", "); }

// Why a top-level name is not a section, with the best suggestion we have.
std::string unknown_section_message(const Schema& schema, const std::string& name) {
  std::string msg = "unknown section '" + config_detail::shown_name(name) + "'";
  std::string near = config_detail::nearest_section(schema, name);
  if (!near.empty()) return msg + " (did you mean '" + near + "'?)";
  // A key written at the top level instead of inside its section.
  std::vector<std::string> owners;
  for (const auto& d : schema.options())
    if (config_detail::name_of(d.key) == name) owners.push_back(d.key);
  if (!owners.empty())
    return msg + " (did you mean '" + owners.front() + "'? keys go inside their section: " +
           config_detail::section_of(owners.front()) + ": " + name + ": ...)";
  return msg + " (sections: " + section_list(schema) + ")";
}

}  // namespace

Config Config::from_string(std::shared_ptr<const Schema> schema, const std::string& text,
                           const std::string& origin) {
  Config c(std::move(schema));
  c.merge_string(text, origin);
  return c;
}

Config Config::from_file(std::shared_ptr<const Schema> schema, const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(StatusCode::NotFound, "config file not found: " + path);
  if (fs::is_directory(path, ec))
    throw Error(StatusCode::Io, "config path is a folder, not a file: " + path);
  // Not a FIFO or a device, and at most FileLimits::kConfig bytes.
  return from_string(std::move(schema), read_file(path, "config file", FileLimits::kConfig), path);
}

void Config::merge_string(const std::string& text, const std::string& origin) {
  if (auto breach = config_detail::yaml_limit_breach(text)) fail_at(origin, breach->first, breach->second);
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    fail_at(origin, e.mark, e.msg);
  }
  if (docs.empty()) return;  // an empty file changes nothing
  if (docs.size() > 1)
    fail_at(origin, docs[1].Mark(), "expected one YAML document, found " + std::to_string(docs.size()));
  const YAML::Node& root = docs[0];
  if (root.IsNull()) return;
  if (!root.IsMap())
    fail_at(origin, root.Mark(), "the top level must be a mapping of sections (" + section_list(*schema_) +
                                     "), got " + config_detail::describe_node(root));

  Config next = *this;  // all or nothing
  const std::vector<std::string> sections = schema_->sections();
  std::map<std::string, int> seen;  // section or key -> line first given

  auto note = [&](const std::string& what, const YAML::Node& key_node) {
    auto [it, fresh] = seen.emplace(what, line_of(key_node.Mark()));
    if (!fresh)
      fail_at(origin, key_node.Mark(),
              "duplicate " + std::string(what.find('.') == std::string::npos ? "section" : "key") + " '" +
                  what + "' (first given at line " + std::to_string(it->second) + ")");
  };

  auto assign = [&](const std::string& key, const YAML::Node& key_node, const YAML::Node& value) {
    const OptionDef* def = schema_->find(key);
    if (!def) fail_at(origin, key_node.Mark(), config_detail::unknown_key_message(*schema_, key));
    note(key, key_node);
    YAML::Mark mark = value.IsDefined() && !value.IsNull() ? value.Mark() : key_node.Mark();
    try {
      next.values_[key] = config_detail::convert_node(*def, value, &mark);
    } catch (const config_detail::ValueError& e) {
      std::string where = key;
      if (e.element >= 0) where += "[" + std::to_string(e.element) + "]";
      fail_at(origin, mark, where + ": " + e.message);
    }
    next.explicit_[key] = true;
  };

  for (auto it = root.begin(); it != root.end(); ++it) {
    const YAML::Node name_node = it->first;  // copies: yaml-cpp iterators hand out temporaries
    const YAML::Node body = it->second;
    if (!name_node.IsScalar())
      fail_at(origin, name_node.Mark(),
              "a section name must be a plain word, got " + config_detail::describe_node(name_node));
    const std::string name = name_node.Scalar();
    if (name.find('.') != std::string::npos) {  // "model.hidden_dim: 256" at the top level
      assign(name, name_node, body);
      continue;
    }
    if (std::find(sections.begin(), sections.end(), name) == sections.end())
      fail_at(origin, name_node.Mark(), unknown_section_message(*schema_, name));
    note(name, name_node);
    if (!body.IsDefined() || body.IsNull()) continue;  // "memory:" with nothing under it
    if (!body.IsMap())
      fail_at(origin, body.Mark(), "section '" + name + "' must be a mapping of keys, got " +
                                       config_detail::describe_node(body));
    for (auto kv = body.begin(); kv != body.end(); ++kv) {
      const YAML::Node key_node = kv->first;
      if (!key_node.IsScalar())
        fail_at(origin, key_node.Mark(),
                "a key in section '" + name + "' must be a plain word, got " +
                    config_detail::describe_node(key_node));
      const YAML::Node value = kv->second;
      assign(name + "." + key_node.Scalar(), key_node, value);
    }
  }
  *this = std::move(next);
}

}  // namespace memtx
