// plugin/discovery.cpp: where plugins are looked for (beside libmemtx, the build tree, MEMTX_PLUGIN_PATH; never
// the current directory) and loading every *.so of a folder with failures recorded instead of thrown.
#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "plugin/registry_impl.hpp"

#ifndef MEMTX_PLUGIN_INSTALL_SUBDIR
#define MEMTX_PLUGIN_INSTALL_SUBDIR "memtx/plugins"
#endif

namespace memtx {

namespace fs = std::filesystem;

namespace {

const char kAnchor = 0;  // an address inside libmemtx, for dladdr

// The canonical path of the shared object this code is linked into (libmemtx.so); empty if unknown.
fs::path own_library_path() {
  Dl_info info{};
  if (dladdr(&kAnchor, &info) == 0 || !info.dli_fname) return {};
  std::error_code ec;
  fs::path path = fs::canonical(fs::path(info.dli_fname), ec);
  return ec ? fs::path() : path;
}

// True when `path` is `dir` or lies below it (both canonical).
bool lies_under(const fs::path& path, const fs::path& dir) {
  auto p = path.begin();
  for (auto d = dir.begin(); d != dir.end(); ++d, ++p) {
    if (d->empty()) continue;  // trailing separator
    if (p == path.end() || *p != *d) return false;
  }
  return true;
}

// Adds dir (canonical) when it exists and is not listed yet.
void add_existing(std::vector<std::string>& out, const fs::path& dir) {
  std::error_code ec;
  if (dir.empty() || !dir.is_absolute() || !fs::is_directory(dir, ec)) return;
  fs::path canonical = fs::canonical(dir, ec);
  if (ec) return;
  if (std::find(out.begin(), out.end(), canonical.string()) == out.end()) out.push_back(canonical.string());
}

// Regular files (or links to them) named *.so directly in dir, sorted by path.
std::vector<std::string> shared_objects_in(const fs::path& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    std::error_code type_ec;
    if (p.extension() == ".so" && fs::is_regular_file(p, type_ec)) files.push_back(p.string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::vector<PluginFailure> Registry::load_all(const std::vector<std::string>& files, bool skip_loaded) {
  std::vector<PluginFailure> failures;
  for (const std::string& file : files) {
    try {
      load_file(file);
    } catch (const Error& e) {
      if (skip_loaded && e.code() == StatusCode::Duplicate && loaded_file(file)) continue;
      failures.push_back(PluginFailure{file, e.code(), e.what()});
    } catch (const std::exception& e) {
      failures.push_back(PluginFailure{file, StatusCode::Internal, file + ": " + e.what()});
    }
  }
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->failures.insert(impl_->failures.end(), failures.begin(), failures.end());
  return failures;
}

bool Registry::loaded_file(const std::string& file) const {
  std::error_code ec;
  const fs::path canonical = fs::canonical(fs::path(file), ec);
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return !ec && impl_->is_loaded(canonical.string());
}

std::vector<std::string> Registry::default_search_path() const {
  std::vector<std::string> dirs;
  const fs::path library = own_library_path();
  if (!library.empty()) {
    add_existing(dirs, library.parent_path() / MEMTX_PLUGIN_INSTALL_SUBDIR);
#if defined(MEMTX_BUILD_TREE_DIR) && defined(MEMTX_BUILD_TREE_PLUGIN_DIR)
    std::error_code ec;
    const fs::path build_tree = fs::canonical(fs::path(MEMTX_BUILD_TREE_DIR), ec);
    if (!ec && lies_under(library, build_tree)) add_existing(dirs, fs::path(MEMTX_BUILD_TREE_PLUGIN_DIR));
#endif
  }
  if (const char* env = std::getenv("MEMTX_PLUGIN_PATH")) {
    std::stringstream entries(env);
    std::string entry;
    while (std::getline(entries, entry, ':')) {
      if (entry.empty() || !fs::path(entry).is_absolute()) continue;  // never the current directory
      add_existing(dirs, fs::path(entry));
    }
  }
  return dirs;
}

std::vector<PluginFailure> Registry::load_directory(const std::string& dir) {
  std::error_code ec;
  const fs::path absolute = dir.empty() ? fs::path() : fs::absolute(fs::path(dir), ec).lexically_normal();
  if (dir.empty() || ec || !fs::is_directory(absolute, ec)) {
    throw Error(StatusCode::NotFound, (dir.empty() ? std::string("<empty path>") : absolute.string()) +
                                          ": no such directory");
  }
  return load_all(shared_objects_in(absolute), /*skip_loaded=*/false);
}

std::vector<PluginFailure> Registry::load_default_plugins() {
  std::vector<std::string> files;
  for (const std::string& dir : default_search_path()) {
    std::vector<std::string> found = shared_objects_in(fs::path(dir));
    files.insert(files.end(), found.begin(), found.end());
  }
  // A file found twice on the path (or loaded before) is skipped silently.
  return load_all(files, /*skip_loaded=*/true);
}

}  // namespace memtx
