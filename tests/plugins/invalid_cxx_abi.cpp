// tests/plugins/invalid_cxx_abi.cpp: claims the other _GLIBCXX_USE_CXX11_ABI setting (AbiMismatch).
#include "test_modules.hpp"

MEMTX_TEST_PLUGIN_INFO("invalid_cxx_abi", MEMTX_PLUGIN_ABI_MAJOR, MEMTX_PLUGIN_ABI_MINOR, MEMTX_TORCH_MAJOR,
                       MEMTX_TORCH_MINOR, MEMTX_CXX11_ABI ? 0 : 1)

MEMTX_PLUGIN_REGISTER { host->add_variant(shift_variant("test_cxx_abi")); }
