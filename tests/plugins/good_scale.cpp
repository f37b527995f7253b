// tests/plugins/good_scale.cpp: a well-formed plugin registering "test_scale" (x * weight) with the option
// attention.test_scale_init (float, default 1.0).
#include "test_modules.hpp"

MEMTX_DEFINE_PLUGIN("good_scale", "1.2.3")

MEMTX_PLUGIN_REGISTER { host->add_variant(scale_variant("test_scale")); }
