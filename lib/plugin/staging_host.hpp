// plugin/staging_host.hpp: the PluginHost handed to memtx_plugin_register. It only collects what the plugin
// registers; the registry checks the collection and commits it all or nothing after register returns.
#pragma once
#include <vector>

#include "memtx/plugin.h"

namespace memtx {

class StagingHost final : public PluginHost {
 public:
  uint32_t host_abi_major() const override { return MEMTX_PLUGIN_ABI_MAJOR; }
  uint32_t host_abi_minor() const override { return MEMTX_PLUGIN_ABI_MINOR; }
  void add_variant(VariantDesc desc) override { staged_.push_back(std::move(desc)); }

  std::vector<VariantDesc>& staged() { return staged_; }

 private:
  std::vector<VariantDesc> staged_;
};

}  // namespace memtx
