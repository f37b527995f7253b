// plugin/staging.cpp: checking a staged registration against the registry and committing it all or nothing.
#include <set>
#include <utility>

#include "plugin/registry_impl.hpp"

namespace memtx {

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
                                                           StatusCode option_code) const {
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
