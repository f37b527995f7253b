// co4/co4_plugin.cpp: registers "co4" (co-occurrence attention after Adeel 2025; equations in co4_attention.hpp)
// with its options from the builtin schema.
#include <memtx/plugin.h>

#include "co4_attention.hpp"

MEMTX_DEFINE_PLUGIN("co4", "0.1.0")

namespace {

std::vector<memtx::OptionDef> co4_options() {
  std::vector<memtx::OptionDef> defs;
  for (const char* key : {"attention.n_latent", "attention.triadic_loops", "attention.mod_fn", "attention.co4_causal",
                          "attention.disable_flash_attention"}) {
    if (const auto* def = memtx::Schema::builtin().find(key)) defs.push_back(*def);
  }
  return defs;
}

}  // namespace

MEMTX_PLUGIN_REGISTER {
  memtx::VariantDesc desc;
  desc.name = "co4";
  desc.description =
      "co-occurrence attention (Adeel 2025): learned latent queries, triadic q/k/v modulation loops, latent-to-token "
      "attention; causal prefix form by default, the published whole-sequence form with co4_causal: false";
  desc.options = co4_options();
  desc.factory = [](const memtx::AttentionSpec& spec) -> std::shared_ptr<memtx::AttentionModuleImpl> {
    return std::make_shared<memtx::co4::Co4AttentionImpl>(spec);
  };
  host->add_variant(std::move(desc));
}
