// tests/config/helpers.hpp: shared helpers of the configuration tests: the builtin schema as a shared
// pointer, temporary files, and checks on the code and text of a thrown memtx::Error.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "memtx/config.hpp"

namespace memtx_test {

// Config wants a shared_ptr; the builtin schema is a static that outlives every test.
inline std::shared_ptr<const memtx::Schema> builtin() {
  return std::shared_ptr<const memtx::Schema>(&memtx::Schema::builtin(), [](const memtx::Schema*) {});
}

inline memtx::Config defaults() { return memtx::Config(builtin()); }

inline memtx::Config load(const std::string& yaml) { return memtx::Config::from_string(builtin(), yaml); }

// Runs f, which must throw memtx::Error with `code`; returns the message ("" and a failure otherwise).
inline std::string error_of(const std::function<void()>& f,
                            memtx::StatusCode code = memtx::StatusCode::Config) {
  try {
    f();
  } catch (const memtx::Error& e) {
    EXPECT_EQ(static_cast<int>(e.code()), static_cast<int>(code)) << e.what();
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected memtx::Error, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected an error, none was thrown";
  return "";
}

#define EXPECT_CONTAINS(text, fragment)                                                      \
  EXPECT_NE(std::string(text).find(fragment), std::string::npos)                             \
      << "message: " << (text) << "\n  lacks: " << (fragment)

// A file in a fresh per-test folder under the system temporary folder.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("memtx_config_test_" + std::string(info->test_suite_name()) + "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  std::filesystem::path dir_;
};

}  // namespace memtx_test
