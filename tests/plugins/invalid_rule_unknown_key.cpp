// tests/plugins/invalid_rule_unknown_key.cpp: declares a config rule over a key that neither memtx nor the
// plugin defines (Plugin: such a rule would be skipped forever without a word).
#include "test_modules.hpp"

MEMTX_DEFINE_PLUGIN("invalid_rule_unknown_key", "0.0.1")

MEMTX_PLUGIN_REGISTER {
  memtx::VariantDesc desc = shift_variant("test_rule_unknown_key");
  desc.rules.push_back({"`attention.nowhere` is positive.", {"attention.nowhere"},
                        [](const memtx::Config&, std::vector<std::string>&) {}});
  host->add_variant(std::move(desc));
}
