// tests/plugin/discovery_test.cpp: load_directory (failures recorded, good plugins loaded) and the default
// search path (beside libmemtx, the build tree, MEMTX_PLUGIN_PATH; never relative entries or the cwd).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>

#include "plugin_test_util.hpp"

namespace memtx::test {
namespace {

namespace fs = std::filesystem;

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Checks failures against broken_cases(): exactly one per broken file, with its code.
void expect_broken_failures(const std::vector<PluginFailure>& failures) {
  std::map<std::string, const PluginFailure*> by_name;
  for (const PluginFailure& f : failures) by_name[fs::path(f.file).filename().string()] = &f;
  const auto cases = broken_cases();
  EXPECT_EQ(failures.size(), cases.size());
  for (const BrokenCase& c : cases) {
    auto it = by_name.find("lib" + c.stem + ".so");
    ASSERT_NE(it, by_name.end()) << "no failure recorded for " << c.stem;
    EXPECT_EQ(static_cast<int>(it->second->code), static_cast<int>(c.code)) << it->second->message;
    EXPECT_EQ(it->second->message.rfind(plugin_path(c.stem) + ": ", 0), 0u) << it->second->message;
  }
}

TEST(LoadDirectory, LoadsTheGoodOnesAndRecordsEveryFailure) {
  Registry registry;
  std::vector<PluginFailure> failures;
  ASSERT_NO_THROW(failures = registry.load_directory(MEMTX_TEST_PLUGIN_DIR));
  EXPECT_EQ(registry.variant_names(), (std::vector<std::string>{"test_scale", "test_shift"}));
  EXPECT_EQ(registry.find("test_scale")->plugin_file, plugin_path("good_scale"));
  ASSERT_EQ(registry.plugins().size(), 2u);
  expect_broken_failures(failures);

  const auto recorded = registry.failures();
  ASSERT_EQ(recorded.size(), failures.size());
  for (size_t i = 0; i < failures.size(); ++i) EXPECT_EQ(recorded[i].message, failures[i].message);

  const auto json = nlohmann::json::parse(registry.describe_json());
  ASSERT_EQ(json.at("failures").size(), failures.size());
  EXPECT_EQ(json["failures"][0].at("code"), static_cast<int>(failures[0].code));
  EXPECT_EQ(json["failures"][0].at("message"), failures[0].message);
}

TEST(LoadDirectory, MissingDirectoryIsNotFound) {
  Registry registry;
  const std::string missing = plugin_dir() + "/no_such_folder";
  EXPECT_EQ(error_message([&] { registry.load_directory(missing); }, StatusCode::NotFound),
            missing + ": no such directory");
  error_message([&] { registry.load_directory(plugin_path("good_scale")); }, StatusCode::NotFound);  // a file
  EXPECT_TRUE(registry.failures().empty());
}

TEST(DefaultSearchPath, UsesAbsoluteMemtxPluginPathEntriesThatExist) {
  const std::string missing = plugin_dir() + "/no_such_folder";
  ScopedEnv env("MEMTX_PLUGIN_PATH", missing + "::" + MEMTX_TEST_PLUGIN_DIR + ":" + plugin_dir() + "/");
  Registry registry;
  const auto path = registry.default_search_path();
  EXPECT_EQ(std::count(path.begin(), path.end(), plugin_dir()), 1) << "listed once";
  EXPECT_FALSE(contains(path, missing));
  EXPECT_EQ(path.back(), plugin_dir());  // MEMTX_PLUGIN_PATH comes last

  const auto failures = registry.load_default_plugins();
  EXPECT_NE(registry.find("test_scale"), nullptr);
  EXPECT_NE(registry.find("test_shift"), nullptr);
  std::vector<PluginFailure> from_test_dir;
  for (const PluginFailure& f : failures) {
    if (fs::path(f.file).parent_path() == fs::path(plugin_dir())) from_test_dir.push_back(f);
  }
  expect_broken_failures(from_test_dir);

  // Again: the files already loaded are skipped silently; the broken ones fail again.
  const auto again = registry.load_default_plugins();
  for (const PluginFailure& f : again) {
    EXPECT_EQ(fs::path(f.file).filename().string().rfind("libgood_", 0), std::string::npos) << f.message;
  }
}

TEST(DefaultSearchPath, IgnoresRelativeEntriesAndTheCurrentDirectory) {
  ScopedCwd cwd(plugin_dir());
  ScopedEnv env("MEMTX_PLUGIN_PATH", std::string(".:./:plugins:../plugins::"));
  Registry registry;
  for (const std::string& dir : registry.default_search_path()) {
    EXPECT_TRUE(fs::path(dir).is_absolute()) << dir;
    EXPECT_NE(dir, plugin_dir());
  }
  registry.load_default_plugins();
  EXPECT_EQ(registry.find("test_scale"), nullptr);
  EXPECT_EQ(registry.find("test_shift"), nullptr);
}

TEST(DefaultSearchPath, UnsetVariableAndBuildTree) {
  ScopedEnv env("MEMTX_PLUGIN_PATH", std::nullopt);
  Registry registry;
  const auto path = registry.default_search_path();
  EXPECT_FALSE(contains(path, plugin_dir()));
  for (const std::string& dir : path) EXPECT_TRUE(fs::is_directory(dir)) << dir;
  // This test runs against the build tree's libmemtx, so the build tree's plugin folder is searched when
  // it exists.
  const fs::path build_plugins = fs::path(MEMTX_BUILD_DIR) / "plugins";
  if (fs::is_directory(build_plugins)) {
    EXPECT_TRUE(contains(path, fs::canonical(build_plugins).string()));
  }
}

}  // namespace
}  // namespace memtx::test
