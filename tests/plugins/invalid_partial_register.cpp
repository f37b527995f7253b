// tests/plugins/invalid_partial_register.cpp: registers "test_partial", then throws: the host must register
// nothing from this file (Plugin).
#include <stdexcept>

#include "test_modules.hpp"

MEMTX_DEFINE_PLUGIN("invalid_partial_register", "0.0.1")

MEMTX_PLUGIN_REGISTER {
  host->add_variant(shift_variant("test_partial"));
  throw std::runtime_error("deliberate failure after one variant");
}
