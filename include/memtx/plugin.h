/* memtx/plugin.h: what a plugin shared library exports. Two C symbols with fixed names:
 *
 *   const struct memtx_plugin_info* memtx_plugin_info(void);   static data, called first
 *   void memtx_plugin_register(memtx::PluginHost* host);       registers one or more variants
 *
 * The host checks, before calling register: ABI major equal and minor not newer than the host's; the
 * LibTorch major.minor and C++ ABI flag equal to the host's (a plugin built against another LibTorch would
 * crash on the first tensor). register may throw: the host reports it and registers nothing from that file.
 * Plugins use MEMTX_DEFINE_PLUGIN(name, version) to emit memtx_plugin_info with the right fingerprint. */
#ifndef MEMTX_PLUGIN_H
#define MEMTX_PLUGIN_H
#include <stdint.h>

#include "memtx/export.h"

/* ABI 2.0: AttentionModuleImpl gained metrics() and segment_length(); AttentionContext gained segment_length.
 * ABI 2.1: memtx/memory.hpp (MemoryBankImpl, MemoryLayerImpl) for memory plugins.
 * ABI 2.2: memtx/quantize.hpp (row-wise quantisation shared with the host's model files).
 * ABI 3.0: AttentionModuleImpl gained metrics_interval(), detach_every(), parameter_groups() and
 *          no_decay_parameters(): a variant tells the host what the host used to find by name or config key.
 * ABI 4.0: VariantDesc gained rules (a variant's cross-field config rules); the keys only plugins read left
 *          the builtin schema (each plugin declares them, memtx/option.hpp VariantKeys).
 * ABI 4.1: AttentionContext gained global_batch (appended; memtx/attention.hpp GlobalBatch).
 * ABI 4.2: AttentionSpec gained rope_scaling (appended; memtx/attention.hpp RopeScaling). */
#define MEMTX_PLUGIN_ABI_MAJOR 4
#define MEMTX_PLUGIN_ABI_MINOR 2
#define MEMTX_PLUGIN_INFO_SYMBOL "memtx_plugin_info"
#define MEMTX_PLUGIN_REGISTER_SYMBOL "memtx_plugin_register"

#ifdef __cplusplus
extern "C" {
#endif

/* No typedef: the function memtx_plugin_info has the same name, so the type is `struct memtx_plugin_info`
 * (in C++ code that does not declare the function, plain `memtx_plugin_info` names the type too). */
struct memtx_plugin_info {
  uint32_t abi_major;       /* MEMTX_PLUGIN_ABI_MAJOR the plugin was built with */
  uint32_t abi_minor;
  const char* name;         /* plugin name, e.g. "causal" */
  const char* version;      /* plugin version text */
  uint32_t torch_major;     /* LibTorch the plugin was compiled against */
  uint32_t torch_minor;
  int32_t cxx11_abi;        /* _GLIBCXX_USE_CXX11_ABI of the plugin build */
};

#ifdef __cplusplus
}

#include <initializer_list>
#include <string>
#include <vector>

#include "memtx/attention.hpp"
#include "memtx/option.hpp"
#include "memtx/torch_compat.hpp"

namespace memtx {

// The registration table handed to memtx_plugin_register. Registration is staged: the host commits the
// variants only if the whole register call succeeds and no name collides.
class PluginHost {
 public:
  virtual ~PluginHost() = default;
  virtual uint32_t host_abi_major() const = 0;
  virtual uint32_t host_abi_minor() const = 0;
  virtual void add_variant(VariantDesc desc) = 0;
};

// The builtin schema's definitions of the host keys a variant reads (model.*, memory.*, the attention keys the
// host reads too). A key the schema lacks is a plugin bug: Error(Plugin) naming it. A variant's own keys are
// declared by the plugin (memtx::Option in <plugin>_keys.cpp).
inline std::vector<OptionDef> builtin_options(std::initializer_list<const char*> keys) {
  std::vector<OptionDef> defs;
  for (const char* key : keys) {
    const OptionDef* def = Schema::builtin().find(key);
    if (!def) throw Error(StatusCode::Plugin, std::string("option '") + key + "' is not in memtx's builtin schema");
    defs.push_back(*def);
  }
  return defs;
}

// A variant whose factory constructs Module from the spec; recurrent: it carries state between calls.
template <typename Module>
VariantDesc make_variant(std::string name, std::string description, VariantKeys keys, bool recurrent = false) {
  VariantDesc desc;
  desc.name = std::move(name);
  desc.description = std::move(description);
  desc.options = std::move(keys.options);
  desc.rules = std::move(keys.rules);
  desc.recurrent = recurrent;
  desc.factory = [](const AttentionSpec& spec) -> std::shared_ptr<AttentionModuleImpl> {
    return std::make_shared<Module>(spec);
  };
  return desc;
}

// A variant with host keys only (builtin_options) and no rules of its own.
template <typename Module>
VariantDesc make_variant(std::string name, std::string description, std::vector<OptionDef> options,
                         bool recurrent = false) {
  VariantKeys keys;
  keys.options = std::move(options);
  return make_variant<Module>(std::move(name), std::move(description), std::move(keys), recurrent);
}

}  // namespace memtx

#define MEMTX_DEFINE_PLUGIN(plugin_name, plugin_version)                                           \
  extern "C" MEMTX_API_EXPORT const struct memtx_plugin_info* memtx_plugin_info(void) {            \
    static const struct memtx_plugin_info info = {MEMTX_PLUGIN_ABI_MAJOR, MEMTX_PLUGIN_ABI_MINOR,  \
                                                  plugin_name,            plugin_version,          \
                                                  MEMTX_TORCH_MAJOR,      MEMTX_TORCH_MINOR,       \
                                                  MEMTX_CXX11_ABI};                                \
    return &info;                                                                                  \
  }

#define MEMTX_PLUGIN_REGISTER extern "C" MEMTX_API_EXPORT void memtx_plugin_register(memtx::PluginHost* host)

#endif
#endif
