// plugin/staging.cpp: checking a staged registration against the registry (names, factories, and the
// variants' keys and rules merged into a copy of the schema) and committing it all or nothing.
#include <set>
#include <utility>

#include "plugin/registry_impl.hpp"

namespace memtx {
namespace {

// A plugin's rule check that keeps the plugin's library loaded for as long as the check exists. Members are
// destroyed in reverse order: the check (plugin code) before the library reference.
struct LibraryBoundCheck {
  std::shared_ptr<boost::dll::shared_library> library;
  std::function<void(const Config&, std::vector<std::string>&)> check;
  void operator()(const Config& c, std::vector<std::string>& errors) const { check(c, errors); }
};

}  // namespace

bool is_valid_variant_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::shared_ptr<const Schema> Registry::Impl::check_staged(const std::vector<VariantDesc>& staged,
                                                           const std::string& file, StatusCode invalid_code,
                                                           StatusCode option_code,
                                                           const std::shared_ptr<boost::dll::shared_library>& library) const {
  if (staged.empty()) throw Error(invalid_code, file + ": registered no attention variant");
  for (const VariantDesc& desc : staged) {
    if (!is_valid_variant_name(desc.name)) {
      throw Error(invalid_code, file + ": invalid variant name '" + desc.name + "' (expected [a-z0-9_]+)");
    }
    if (!desc.factory) throw Error(invalid_code, file + ": variant '" + desc.name + "' has no factory");
  }
  std::set<std::string> seen;
  for (const VariantDesc& desc : staged) {
    if (!seen.insert(desc.name).second) {
      throw Error(StatusCode::Duplicate, file + ": variant '" + desc.name + "' is registered twice by this file");
    }
    const std::string owner = owner_of(desc.name);
    if (!owner.empty()) {
      throw Error(StatusCode::Duplicate,
                  file + ": variant '" + desc.name + "' is already registered by " + owner);
    }
  }
  auto merged = std::make_shared<Schema>(*schema);
  for (const VariantDesc& desc : staged) {
    for (const OptionDef& def : desc.options) {
      try {
        merged->add(def);
      } catch (const std::exception& e) {
        throw Error(option_code, file + ": option '" + def.key + "' of variant '" + desc.name + "': " + e.what());
      }
    }
    for (const ConfigRule& rule : desc.rules) {
      for (const std::string& key : rule.keys)  // a rule over an unknown key would be skipped without a word
        if (!merged->find(key))
          throw Error(invalid_code, file + ": a config rule of variant '" + desc.name + "' reads '" + key +
                                        "', which neither memtx nor the variant defines");
      ConfigRule bound = rule;
      if (library && rule.check) bound.check = LibraryBoundCheck{library, rule.check};
      try {
        merged->add_rule(std::move(bound));
      } catch (const std::exception& e) {
        throw Error(invalid_code, file + ": a config rule of variant '" + desc.name + "': " + e.what());
      }
    }
  }
  return merged;
}

void Registry::Impl::commit(std::vector<VariantDesc> staged, const std::string& file,
                            const std::shared_ptr<boost::dll::shared_library>& library,
                            std::shared_ptr<const Schema> merged) {
  for (VariantDesc& desc : staged) {
    desc.plugin_file = file;
    std::string name = desc.name;
    variants.emplace(std::move(name), VariantEntry{std::move(desc), library});
  }
  schema = std::move(merged);
}

}  // namespace memtx
