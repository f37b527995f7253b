// plugin/registry_impl.hpp: the private state of a Registry, shared by lib/plugin/*.cpp (registry, staging,
// loader, discovery, create, describe). Everything here is guarded by Impl::mutex.
#pragma once
#include <boost/dll/shared_library.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "plugin/registry.hpp"

namespace memtx {

// The file name recorded for variants added in-process with Registry::add_variant.
inline constexpr const char* kBuiltinFile = "<builtin>";

// One registered variant and the library that must stay loaded while its factory or modules live
// (null for builtin variants).
struct VariantEntry {
  VariantDesc desc;
  std::shared_ptr<boost::dll::shared_library> library;
};

// One loaded plugin file.
struct LoadedPlugin {
  PluginRecord record;
  std::string canonical;  // canonical path, for "already loaded"
  std::shared_ptr<boost::dll::shared_library> library;
};

struct Registry::Impl {
  Impl();
  ~Impl();

  mutable std::mutex mutex;
  // Order matters for destruction: variants (whose std::function factories live in plugin code) go before
  // the libraries; ~Impl clears them explicitly in that order as well.
  std::vector<LoadedPlugin> loaded;
  std::map<std::string, VariantEntry> variants;  // stable nodes: find() hands out pointers into them
  std::vector<PluginFailure> failures;
  std::shared_ptr<const Schema> schema;          // replaced (never mutated) on commit

  bool is_loaded(const std::string& canonical) const;
  // The file that registered `name`, or "" when it is not registered.
  std::string owner_of(const std::string& name) const;
  // Checks staged variants against the registry and returns the schema that results from merging their
  // options; changes nothing. Throws Error(<code>, "<file>: <reason>"): invalid_code for an empty set, a
  // malformed name or a missing factory; Duplicate for a name staged twice or already registered;
  // option_code for an option whose type conflicts with a known key; invalid_code for a rule over a key no
  // schema defines. The merged schema's copies of the variants' rules keep `library` loaded (a Config may
  // hold the schema after the registry is gone, and the rules' code lives in the library).
  std::shared_ptr<const Schema> check_staged(const std::vector<VariantDesc>& staged, const std::string& file,
                                             StatusCode invalid_code, StatusCode option_code,
                                             const std::shared_ptr<boost::dll::shared_library>& library) const;
  // Adds checked variants (plugin_file set to `file`) and installs the merged schema. Never throws
  // anything but std::bad_alloc.
  void commit(std::vector<VariantDesc> staged, const std::string& file,
              const std::shared_ptr<boost::dll::shared_library>& library, std::shared_ptr<const Schema> merged);
};

// [a-z0-9_]+
bool is_valid_variant_name(const std::string& name);

}  // namespace memtx
