// plugin/registry.hpp: the variant registry of a memtx_context. Loads plugin shared libraries (Boost.DLL),
// checks them (symbols, plugin ABI, LibTorch fingerprint), stages their registrations and commits all or
// nothing, and creates attention modules that keep their library loaded for as long as they live.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "memtx/attention.hpp"
#include "memtx/config.hpp"

namespace memtx {

struct PluginRecord {
  std::string file;      // absolute path of the loaded library ("<builtin>" for in-process variants)
  std::string name;      // memtx_plugin_info.name
  std::string version;   // memtx_plugin_info.version
  std::vector<std::string> variants;
};

struct PluginFailure {
  std::string file;
  StatusCode code;
  std::string message;
};

class MEMTX_API Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Loads one plugin file. Throws Error naming the file and the reason; the registry is unchanged then:
  //   NotFound (no such file), Plugin (not a regular file: a FIFO, folder or device is refused before opening;
  //   not a loadable shared library, missing symbol, register threw, registered nothing), AbiMismatch (plugin
  //   ABI major differs / minor newer; LibTorch major.minor or C++ ABI flag differ), Duplicate (a variant name
  //   already registered, or registered twice by the file, or the same file already loaded).
  PluginRecord load_file(const std::string& path);
  // Loads every *.so in dir (sorted, not recursive). Failures are recorded (failures()) and returned;
  // they do not stop the other files. Throws NotFound if dir does not exist.
  std::vector<PluginFailure> load_directory(const std::string& dir);
  // The default search path, in order: the plugins folder installed beside libmemtx
  // (<libdir>/memtx/plugins), the build tree's plugin folder when libmemtx runs from the build tree, then
  // every folder of MEMTX_PLUGIN_PATH (':'-separated). Never the current directory.
  std::vector<std::string> default_search_path() const;
  std::vector<PluginFailure> load_default_plugins();

  // Registers a variant compiled into the process (tests, embedding applications).
  void add_variant(VariantDesc desc);

  const VariantDesc* find(const std::string& name) const;  // null when unknown
  std::vector<std::string> variant_names() const;          // sorted
  std::vector<PluginRecord> plugins() const;
  std::vector<PluginFailure> failures() const;
  // The built-in schema plus every option key declared by registered variants.
  std::shared_ptr<const Schema> schema() const;
  // Creates the module; Error(NotFound) lists the registered names. The returned module keeps the
  // library it came from loaded.
  std::shared_ptr<AttentionModuleImpl> create(const std::string& name, const AttentionSpec& spec) const;
  // JSON text, format documented at memtx_plugin_list in memtx.h.
  std::string describe_json() const;

 private:
  // Loads each file, recording failures; skip_loaded: a file already loaded is skipped silently.
  std::vector<PluginFailure> load_all(const std::vector<std::string>& files, bool skip_loaded);
  bool loaded_file(const std::string& file) const;  // true when its canonical path is loaded
  struct Impl;  // plugin/registry_impl.hpp
  std::unique_ptr<Impl> impl_;
};

}  // namespace memtx
