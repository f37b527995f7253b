// tests/plugin/plugin_test_util.hpp: helpers shared by the plugin registry tests: paths of the test plugins
// (tests/plugins), the expected outcome of every broken one, a registry snapshot, scoped env/cwd changes.
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "memtx/plugin.h"
#include "plugin/registry.hpp"

namespace memtx::test {

inline std::string plugin_dir() { return std::filesystem::canonical(MEMTX_TEST_PLUGIN_DIR).string(); }

// Canonical path of tests/plugins/lib<stem>.so (what the registry reports).
inline std::string plugin_path(const std::string& stem) { return plugin_dir() + "/lib" + stem + ".so"; }

struct BrokenCase {
  std::string stem;                    // lib<stem>.so
  StatusCode code;
  std::vector<std::string> fragments;  // must all appear in the message (after "<file>: ")
};

inline void PrintTo(const BrokenCase& c, std::ostream* os) { *os << "lib" << c.stem << ".so"; }

inline std::string ver(long major, long minor) { return std::to_string(major) + "." + std::to_string(minor); }

// Every file of tests/plugins that must fail, and how. Expects libgood_scale.so loaded first (duplicate).
inline std::vector<BrokenCase> broken_cases() {
  const std::string host_abi = ver(MEMTX_PLUGIN_ABI_MAJOR, MEMTX_PLUGIN_ABI_MINOR);
  const std::string host_torch = ver(MEMTX_TORCH_MAJOR, MEMTX_TORCH_MINOR);
  return {
      {"invalid_abi_major", StatusCode::AbiMismatch,
       {"plugin ABI " + ver(MEMTX_PLUGIN_ABI_MAJOR + 1, 0), "host's plugin ABI " + host_abi}},
      {"invalid_abi_minor", StatusCode::AbiMismatch,
       {"plugin ABI " + ver(MEMTX_PLUGIN_ABI_MAJOR, MEMTX_PLUGIN_ABI_MINOR + 1), "newer", "host's plugin ABI " + host_abi}},
      {"invalid_torch_version", StatusCode::AbiMismatch,
       {"LibTorch " + ver(0, MEMTX_TORCH_MINOR), "host uses LibTorch " + host_torch}},
      {"invalid_cxx_abi", StatusCode::AbiMismatch,
       {"_GLIBCXX_USE_CXX11_ABI=" + std::to_string(MEMTX_CXX11_ABI ? 0 : 1),
        "host uses _GLIBCXX_USE_CXX11_ABI=" + std::to_string(MEMTX_CXX11_ABI)}},
      {"invalid_no_register", StatusCode::Plugin, {"missing symbol memtx_plugin_register"}},
      {"invalid_no_info", StatusCode::Plugin, {"missing symbol memtx_plugin_info"}},
      {"invalid_register_throws", StatusCode::Plugin, {"register threw: deliberate failure in register"}},
      {"invalid_partial_register", StatusCode::Plugin, {"register threw: deliberate failure after one variant"}},
      {"invalid_duplicate", StatusCode::Duplicate,
       {"variant 'test_scale'", "already registered by " + plugin_path("good_scale")}},
      {"invalid_same_name_twice", StatusCode::Duplicate, {"variant 'test_twice'", "registered twice"}},
      {"invalid_registers_nothing", StatusCode::Plugin, {"registered no attention variant"}},
      {"invalid_bad_name", StatusCode::Plugin, {"invalid variant name 'Bad-Name'", "[a-z0-9_]+"}},
      {"invalid_option_conflict", StatusCode::Plugin,
       {"option 'model.hidden_dim'", "variant 'test_conflict'"}},
      {"invalid_rule_unknown_key", StatusCode::Plugin,
       {"a config rule of variant 'test_rule_unknown_key' reads 'attention.nowhere'", "neither memtx nor the variant"}},
      {"not_a_library", StatusCode::Plugin, {"not a loadable shared library: "}},
  };
}

// What "the registry is unchanged" compares.
struct Snapshot {
  std::vector<std::string> names;
  std::vector<std::string> plugin_files;
  size_t option_count = 0;
  const Schema* schema = nullptr;
  size_t failure_count = 0;
  std::string json;
};

inline Snapshot snapshot(const Registry& registry) {
  Snapshot s;
  s.names = registry.variant_names();
  for (const PluginRecord& r : registry.plugins()) s.plugin_files.push_back(r.file);
  s.schema = registry.schema().get();
  s.option_count = registry.schema()->options().size();
  s.failure_count = registry.failures().size();
  s.json = registry.describe_json();
  return s;
}

inline void expect_same(const Snapshot& a, const Snapshot& b) {
  EXPECT_EQ(a.names, b.names);
  EXPECT_EQ(a.plugin_files, b.plugin_files);
  EXPECT_EQ(a.option_count, b.option_count);
  EXPECT_EQ(a.schema, b.schema);
  EXPECT_EQ(a.failure_count, b.failure_count);
  EXPECT_EQ(a.json, b.json);
}

// Runs fn, expects memtx::Error with `code`, returns its message ("" if none was thrown).
template <typename Fn>
std::string error_message(Fn&& fn, StatusCode code) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(static_cast<int>(e.code()), static_cast<int>(code)) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no memtx::Error thrown";
  return "";
}

inline AttentionSpec small_spec(const std::string& variant) {
  AttentionSpec spec;
  spec.variant = variant;
  spec.hidden_dim = 8;
  spec.num_heads = 2;
  spec.num_kv_heads = 2;
  spec.head_dim = 4;
  spec.max_seq_len = 16;
  return spec;
}

// Sets (or, with nullopt, unsets) an environment variable for the scope.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::optional<std::string>& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    if (value) {
      ::setenv(name_.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

class ScopedCwd {
 public:
  explicit ScopedCwd(const std::string& dir) : old_(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  ~ScopedCwd() { std::filesystem::current_path(old_); }
  ScopedCwd(const ScopedCwd&) = delete;
  ScopedCwd& operator=(const ScopedCwd&) = delete;

 private:
  std::filesystem::path old_;
};

}  // namespace memtx::test
