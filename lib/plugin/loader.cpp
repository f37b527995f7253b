// plugin/loader.cpp: Registry::load_file. Refuses what is not a regular file (a FIFO would block dlopen), opens
// one plugin with Boost.DLL (RTLD_NOW | RTLD_LOCAL), checks its symbols and fingerprint, runs its register
// function against a staging host, and commits the staged variants only when every check passed. Any failure
// leaves the registry unchanged.
#include <dlfcn.h>

#include <filesystem>
#include <string>
#include <utility>

#include "memtx/plugin.h"
#include "plugin/registry_impl.hpp"
#include "plugin/staging_host.hpp"

namespace memtx {

namespace {

using InfoFn = const struct memtx_plugin_info*();
using RegisterFn = void(PluginHost*);

std::string version_text(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// What a path that is not a regular file is, for messages.
const char* file_kind(std::filesystem::file_type type) {
  using std::filesystem::file_type;
  switch (type) {
    case file_type::directory: return "a folder";
    case file_type::fifo: return "a FIFO";
    case file_type::socket: return "a socket";
    case file_type::character: return "a character device";
    case file_type::block: return "a block device";
    default: return "not a plain file";
  }
}

// dlopen would block on a FIFO (until a writer comes) and read devices: only regular files are opened.
void require_regular_file(const std::string& file) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(file, ec);
  if (ec) throw Error(StatusCode::NotFound, file + ": " + ec.message());
  if (status.type() != std::filesystem::file_type::regular)
    throw Error(StatusCode::Plugin, file + ": not a regular file (" + file_kind(status.type()) +
                                        "); a plugin is a shared library file");
}

std::shared_ptr<boost::dll::shared_library> open_library(const std::string& file) {
  auto library = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code ec;
  (void)dlerror();  // clear a stale message; dlerror is per thread
  library->load(boost::dll::fs::path(file), ec,
                boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  if (ec || !library->is_loaded()) {
    const char* message = dlerror();
    std::string reason = message ? message : ec.message();
    if (reason.rfind(file + ": ", 0) == 0) reason.erase(0, file.size() + 2);  // the loader repeats the path
    throw Error(StatusCode::Plugin, file + ": not a loadable shared library: " + reason);
  }
  return library;
}

// The info record, checked against this host's plugin ABI and LibTorch fingerprint.
const struct memtx_plugin_info& checked_info(boost::dll::shared_library& library, const std::string& file) {
  if (!library.has(MEMTX_PLUGIN_INFO_SYMBOL)) {
    throw Error(StatusCode::Plugin, file + ": missing symbol " MEMTX_PLUGIN_INFO_SYMBOL);
  }
  if (!library.has(MEMTX_PLUGIN_REGISTER_SYMBOL)) {
    throw Error(StatusCode::Plugin, file + ": missing symbol " MEMTX_PLUGIN_REGISTER_SYMBOL);
  }
  const struct memtx_plugin_info* info = library.get<InfoFn>(MEMTX_PLUGIN_INFO_SYMBOL)();
  if (!info) throw Error(StatusCode::Plugin, file + ": " MEMTX_PLUGIN_INFO_SYMBOL " returned null");

  const std::string plugin_abi = version_text(info->abi_major, info->abi_minor);
  const std::string host_abi = version_text(MEMTX_PLUGIN_ABI_MAJOR, MEMTX_PLUGIN_ABI_MINOR);
  if (info->abi_major != MEMTX_PLUGIN_ABI_MAJOR) {
    throw Error(StatusCode::AbiMismatch, file + ": plugin ABI " + plugin_abi + " does not match the host's plugin ABI " +
                                             host_abi + " (major versions differ)");
  }
  if (info->abi_minor > MEMTX_PLUGIN_ABI_MINOR) {
    throw Error(StatusCode::AbiMismatch, file + ": plugin ABI " + plugin_abi + " is newer than the host's plugin ABI " +
                                             host_abi);
  }
  const std::string plugin_torch = version_text(info->torch_major, info->torch_minor);
  const std::string host_torch = version_text(MEMTX_TORCH_MAJOR, MEMTX_TORCH_MINOR);
  if (info->torch_major != MEMTX_TORCH_MAJOR || info->torch_minor != MEMTX_TORCH_MINOR) {
    throw Error(StatusCode::AbiMismatch,
                file + ": built against LibTorch " + plugin_torch + ", but the host uses LibTorch " + host_torch);
  }
  if (info->cxx11_abi != MEMTX_CXX11_ABI) {
    throw Error(StatusCode::AbiMismatch, file + ": built with _GLIBCXX_USE_CXX11_ABI=" + std::to_string(info->cxx11_abi) +
                                             ", but the host uses _GLIBCXX_USE_CXX11_ABI=" +
                                             std::to_string(MEMTX_CXX11_ABI));
  }
  return *info;
}

// Runs memtx_plugin_register against `host`; whatever it throws becomes Error(Plugin).
void run_register(boost::dll::shared_library& library, StagingHost& host, const std::string& file) {
  RegisterFn& register_fn = library.get<RegisterFn>(MEMTX_PLUGIN_REGISTER_SYMBOL);
  try {
    register_fn(&host);
  } catch (const std::exception& e) {
    throw Error(StatusCode::Plugin, file + ": register threw: " + e.what());
  } catch (...) {
    throw Error(StatusCode::Plugin, file + ": register threw: unknown exception");
  }
}

}  // namespace

PluginRecord Registry::load_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path absolute = path.empty() ? fs::path() : fs::absolute(fs::path(path), ec).lexically_normal();
  if (path.empty() || ec || !fs::exists(absolute, ec)) {
    throw Error(StatusCode::NotFound, (path.empty() ? std::string("<empty path>") : absolute.string()) +
                                          ": no such file");
  }
  fs::path canonical = fs::canonical(absolute, ec);
  if (ec) throw Error(StatusCode::NotFound, absolute.string() + ": " + ec.message());
  const std::string file = canonical.string();

  require_regular_file(file);

  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->is_loaded(file)) throw Error(StatusCode::Duplicate, file + ": already loaded");

  // Declared before the host so that staged variants (plugin code) die before the library can unload.
  std::shared_ptr<boost::dll::shared_library> library = open_library(file);
  const struct memtx_plugin_info& info = checked_info(*library, file);
  PluginRecord record{file, info.name ? info.name : "", info.version ? info.version : "", {}};

  StagingHost host;
  run_register(*library, host, file);
  std::shared_ptr<const Schema> merged =
      impl_->check_staged(host.staged(), file, StatusCode::Plugin, StatusCode::Plugin, library);

  for (const VariantDesc& desc : host.staged()) record.variants.push_back(desc.name);
  impl_->loaded.push_back(LoadedPlugin{record, file, library});
  impl_->commit(std::move(host.staged()), file, library, std::move(merged));
  return record;
}

}  // namespace memtx
