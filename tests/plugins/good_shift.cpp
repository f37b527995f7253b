// tests/plugins/good_shift.cpp: a second well-formed plugin registering "test_shift" (x + bias), no options.
#include "test_modules.hpp"

MEMTX_DEFINE_PLUGIN("good_shift", "0.1.0")

MEMTX_PLUGIN_REGISTER { host->add_variant(shift_variant("test_shift")); }
