// tests/plugins/invalid_torch_version.cpp: claims to be built against LibTorch 0.x (AbiMismatch).
#include "test_modules.hpp"

MEMTX_TEST_PLUGIN_INFO("invalid_torch_version", MEMTX_PLUGIN_ABI_MAJOR, MEMTX_PLUGIN_ABI_MINOR, 0, MEMTX_TORCH_MINOR,
                       MEMTX_CXX11_ABI)

MEMTX_PLUGIN_REGISTER { host->add_variant(shift_variant("test_torch_version")); }
