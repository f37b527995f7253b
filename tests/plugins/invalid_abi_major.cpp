// tests/plugins/invalid_abi_major.cpp: claims a plugin ABI major one above the host's (AbiMismatch).
#include "test_modules.hpp"

MEMTX_TEST_PLUGIN_INFO("invalid_abi_major", MEMTX_PLUGIN_ABI_MAJOR + 1, 0, MEMTX_TORCH_MAJOR, MEMTX_TORCH_MINOR,
                       MEMTX_CXX11_ABI)

MEMTX_PLUGIN_REGISTER { host->add_variant(shift_variant("test_abi_major")); }
