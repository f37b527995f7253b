// tests/plugins/invalid_registers_nothing.cpp: register returns without adding a variant (Plugin).
#include "test_modules.hpp"

MEMTX_DEFINE_PLUGIN("invalid_registers_nothing", "0.0.1")

MEMTX_PLUGIN_REGISTER { (void)host; }
