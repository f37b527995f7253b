// tests/plugins/invalid_bad_name.cpp: registers a variant named "Bad-Name", outside [a-z0-9_]+ (Plugin).
#include "test_modules.hpp"

MEMTX_DEFINE_PLUGIN("invalid_bad_name", "0.0.1")

MEMTX_PLUGIN_REGISTER { host->add_variant(shift_variant("Bad-Name")); }
