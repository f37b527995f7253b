// tests/plugins/invalid_same_name_twice.cpp: registers "test_twice" twice in one call (Duplicate).
#include "test_modules.hpp"

MEMTX_DEFINE_PLUGIN("invalid_same_name_twice", "0.0.1")

MEMTX_PLUGIN_REGISTER {
  host->add_variant(shift_variant("test_twice"));
  host->add_variant(shift_variant("test_twice"));
}
