// tests/plugins/invalid_abi_minor.cpp: claims a plugin ABI minor newer than the host's (AbiMismatch).
#include "test_modules.hpp"

MEMTX_TEST_PLUGIN_INFO("invalid_abi_minor", MEMTX_PLUGIN_ABI_MAJOR, MEMTX_PLUGIN_ABI_MINOR + 1, MEMTX_TORCH_MAJOR,
                       MEMTX_TORCH_MINOR, MEMTX_CXX11_ABI)

MEMTX_PLUGIN_REGISTER { host->add_variant(shift_variant("test_abi_minor")); }
