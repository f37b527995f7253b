// tests/plugins/invalid_duplicate.cpp: registers "test_scale" again, the name libgood_scale.so registers
// (Duplicate once that one is loaded).
#include "test_modules.hpp"

MEMTX_DEFINE_PLUGIN("invalid_duplicate", "0.0.1")

MEMTX_PLUGIN_REGISTER { host->add_variant(scale_variant("test_scale")); }
