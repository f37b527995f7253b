// tests/common/temp_dir.hpp: a fresh folder per test under the system temporary folder, removed at the end.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace memtx_test {

// Named after the running test and the process (tag tells apart several folders of one test).
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "") {
    std::string name = "memtx_test_";
    if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info())
      name += std::string(info->test_suite_name()) + "_" + info->name() + "_";
    if (!tag.empty()) name += tag + "_";
    name += std::to_string(::getpid());
    std::replace(name.begin(), name.end(), '/', '_');  // parameterised tests: Prefix/Suite.Name/0
    dir_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return dir_; }
  std::string path(const std::string& relative) const { return (dir_ / relative).string(); }
  // Writes text byte for byte to relative (its folders made as needed); returns the file's path.
  std::filesystem::path write(const std::string& relative, const std::string& text) const {
    const auto p = dir_ / relative;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace memtx_test
