// tests/plugins/invalid_option_conflict.cpp: declares the built-in int key model.hidden_dim as a string
// (Plugin: the option schema would conflict).
#include "test_modules.hpp"

MEMTX_DEFINE_PLUGIN("invalid_option_conflict", "0.0.1")

MEMTX_PLUGIN_REGISTER {
  memtx::VariantDesc desc = shift_variant("test_conflict");
  memtx::OptionDef def;
  def.key = "model.hidden_dim";
  def.type = memtx::ValueType::String;
  def.default_value = memtx::Value("wide");
  def.doc = "Conflicts with the built-in int key.";
  desc.options.push_back(def);
  host->add_variant(std::move(desc));
}
