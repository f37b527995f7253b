// plugin/create.cpp: Registry::create. Runs a variant's factory outside the registry lock and returns the
// module in a shared_ptr whose deleter also holds the plugin library, so the library stays loaded for as
// long as the module lives, even after the Registry is gone.
#include <sstream>
#include <utility>

#include "plugin/registry_impl.hpp"

namespace memtx {

namespace {

// Owns the module as the factory returned it plus the library its code lives in; releases the module
// first, then the library.
struct ModuleKeeper {
  std::shared_ptr<AttentionModuleImpl> module;
  std::shared_ptr<boost::dll::shared_library> library;

  void operator()(AttentionModuleImpl* /*raw*/) {
    module.reset();
    library.reset();
  }
};

}  // namespace

std::shared_ptr<AttentionModuleImpl> Registry::create(const std::string& name, const AttentionSpec& spec) const {
  AttentionFactory factory;
  std::string file;
  std::shared_ptr<boost::dll::shared_library> library;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    auto it = impl_->variants.find(name);
    if (it == impl_->variants.end()) {
      std::ostringstream known;
      for (const auto& entry : impl_->variants) known << (known.tellp() > 0 ? ", " : "") << entry.first;
      const std::string list = impl_->variants.empty() ? "(none)" : known.str();
      throw Error(StatusCode::NotFound, "unknown attention variant '" + name + "'; registered: " + list);
    }
    factory = it->second.desc.factory;
    file = it->second.desc.plugin_file;
    library = it->second.library;
  }

  const std::string where = "variant '" + name + "' (" + file + "): ";
  std::shared_ptr<AttentionModuleImpl> module;
  try {
    module = factory(spec);
  } catch (const Error& e) {
    throw Error(e.code(), e.what());  // a fresh copy: the original's code may live in the plugin
  } catch (const std::exception& e) {
    throw Error(StatusCode::Plugin, where + e.what());
  } catch (...) {
    throw Error(StatusCode::Plugin, where + "unknown exception");
  }
  factory = nullptr;  // its captures are plugin code too; drop them while the library is surely loaded
  if (!module) throw Error(StatusCode::Plugin, where + "the factory returned no module");
  if (!library) return module;  // builtin: nothing to keep loaded

  AttentionModuleImpl* raw = module.get();
  return std::shared_ptr<AttentionModuleImpl>(raw, ModuleKeeper{std::move(module), std::move(library)});
}

}  // namespace memtx
