// tests/model/hf_folder_support.hpp: temporary Hugging Face model folders (config.json, weights) built by a test.
#pragma once
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error_of.hpp"
#include "common/temp_dir.hpp"
#include "test_support.hpp"

namespace memtx::test {

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// A folder removed at the end of the test: files written as text or JSON, or copied from a fixture folder.
class HfFolder : public memtx_test::TempDir {
 public:
  using TempDir::TempDir;
  std::string dir() const { return path().string(); }
  void write_json(const std::string& name, const nlohmann::json& j, int indent = -1) const {
    write(name, j.dump(indent));
  }
  void copy_from(const std::string& fixture_dir, const std::string& name) const {
    std::filesystem::copy_file(std::filesystem::path(fixture_dir) / name, path() / name);
  }
};

// A fixture's config.json in config_, edited by the test, then written alone into a folder and mapped (skipped
// without the fixture).
class HfConfigFolder : public ::testing::Test {
 protected:
  explicit HfConfigFolder(std::string fixture_dir) : fixture_dir_(std::move(fixture_dir)) {}
  void SetUp() override {
    if (!std::filesystem::exists(fixture_dir_)) GTEST_SKIP() << "fixtures not found at " << fixture_dir_;
    config_ = read_json(fixture_dir_ + "/config.json");
  }
  Config mapped() {
    folder_.write_json("config.json", config_);
    return hf_config_to_memtx(folder_.dir(), plugin_registry());
  }
  std::string config_error() { return memtx_test::error_of([&] { mapped(); }, StatusCode::Config); }

  std::string fixture_dir_;
  HfFolder folder_;
  nlohmann::json config_;
};

}  // namespace memtx::test
