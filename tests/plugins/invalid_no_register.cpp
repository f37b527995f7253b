// tests/plugins/invalid_no_register.cpp: exports memtx_plugin_info but no memtx_plugin_register (Plugin).
#include "test_modules.hpp"

MEMTX_DEFINE_PLUGIN("invalid_no_register", "0.0.1")
