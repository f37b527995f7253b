// tests/config/helpers.hpp: shared helpers of the configuration tests: the builtin schema and the shipped
// schema (builtin plus the shipped plugins' keys and rules, common/shipped_schema.hpp) as shared pointers,
// temporary files (common/temp_dir.hpp), and checks on the code and text of a thrown memtx::Error.
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/error_of.hpp"
#include "common/shipped_schema.hpp"
#include "common/temp_dir.hpp"
#include "memtx/config.hpp"

namespace memtx_test {

// Config wants a shared_ptr; the builtin schema is a static that outlives every test.
inline std::shared_ptr<const memtx::Schema> builtin() {
  return std::shared_ptr<const memtx::Schema>(&memtx::Schema::builtin(), [](const memtx::Schema*) {});
}

// What memtx-cli sees with the shipped plugins; defaults() and load() use it.
inline std::shared_ptr<const memtx::Schema> shipped() { return shipped_schema(); }

inline memtx::Config defaults() { return memtx::Config(shipped()); }

inline memtx::Config load(const std::string& yaml) { return memtx::Config::from_string(shipped(), yaml); }

#define EXPECT_CONTAINS(text, fragment)                                                      \
  EXPECT_NE(std::string(text).find(fragment), std::string::npos)                             \
      << "message: " << (text) << "\n  lacks: " << (fragment)

}  // namespace memtx_test
