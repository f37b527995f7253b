// tests/plugins/invalid_no_info.cpp: exports memtx_plugin_register but no memtx_plugin_info (Plugin).
#include "test_modules.hpp"

MEMTX_PLUGIN_REGISTER { host->add_variant(shift_variant("test_no_info")); }
