// tests/config/helpers.hpp: shared helpers of the configuration tests: the builtin schema as a shared
// pointer, temporary files (common/temp_dir.hpp), and checks on the code and text of a thrown memtx::Error.
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/error_of.hpp"
#include "common/temp_dir.hpp"
#include "memtx/config.hpp"

namespace memtx_test {

// Config wants a shared_ptr; the builtin schema is a static that outlives every test.
inline std::shared_ptr<const memtx::Schema> builtin() {
  return std::shared_ptr<const memtx::Schema>(&memtx::Schema::builtin(), [](const memtx::Schema*) {});
}

inline memtx::Config defaults() { return memtx::Config(builtin()); }

inline memtx::Config load(const std::string& yaml) { return memtx::Config::from_string(builtin(), yaml); }

#define EXPECT_CONTAINS(text, fragment)                                                      \
  EXPECT_NE(std::string(text).find(fragment), std::string::npos)                             \
      << "message: " << (text) << "\n  lacks: " << (fragment)

}  // namespace memtx_test
