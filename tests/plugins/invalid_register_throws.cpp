// tests/plugins/invalid_register_throws.cpp: register throws before registering anything (Plugin).
#include <stdexcept>

#include "test_modules.hpp"

MEMTX_DEFINE_PLUGIN("invalid_register_throws", "0.0.1")

MEMTX_PLUGIN_REGISTER {
  (void)host;
  throw std::runtime_error("deliberate failure in register");
}
