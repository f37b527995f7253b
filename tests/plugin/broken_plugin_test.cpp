// tests/plugin/broken_plugin_test.cpp: every deliberately broken plugin of tests/plugins fails with its exact
// status code and a message "<absolute file>: <reason>", and leaves the registry exactly as it was.
#include "plugin_test_util.hpp"

namespace memtx::test {
namespace {

class BrokenPlugin : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(BrokenPlugin, FailsWithCodeAndMessageAndChangesNothing) {
  const BrokenCase& c = GetParam();
  Registry registry;
  registry.load_file(plugin_path("good_scale"));  // something to keep unchanged (and to collide with)
  const Snapshot before = snapshot(registry);

  const std::string file = plugin_path(c.stem);
  const std::string message = error_message([&] { registry.load_file(file); }, c.code);
  EXPECT_EQ(message.rfind(file + ": ", 0), 0u) << message;  // starts with the absolute file name
  for (const std::string& fragment : c.fragments) {
    EXPECT_NE(message.find(fragment), std::string::npos) << "missing '" << fragment << "' in: " << message;
  }
  expect_same(before, snapshot(registry));

  // Nothing of the file lingers: loading it again fails the same way (not "already loaded"), and the
  // registry still accepts a good plugin.
  EXPECT_EQ(error_message([&] { registry.load_file(file); }, c.code), message);
  registry.load_file(plugin_path("good_shift"));
  EXPECT_EQ(registry.variant_names(), (std::vector<std::string>{"test_scale", "test_shift"}));
}

INSTANTIATE_TEST_SUITE_P(AllBroken, BrokenPlugin, ::testing::ValuesIn(broken_cases()),
                         [](const ::testing::TestParamInfo<BrokenCase>& info) { return info.param.stem; });

TEST(BrokenPluginDetails, PartialRegistrationRegistersNothing) {
  Registry registry;
  error_message([&] { registry.load_file(plugin_path("invalid_partial_register")); }, StatusCode::Plugin);
  EXPECT_EQ(registry.find("test_partial"), nullptr);
  EXPECT_TRUE(registry.variant_names().empty());
  EXPECT_TRUE(registry.plugins().empty());
}

TEST(BrokenPluginDetails, DuplicateOnlyCollidesWithWhatIsLoaded) {
  // Without libgood_scale.so, the "duplicate" plugin's test_scale is new and loads.
  Registry registry;
  registry.load_file(plugin_path("invalid_duplicate"));
  EXPECT_EQ(registry.find("test_scale")->plugin_file, plugin_path("invalid_duplicate"));
  // ... and the good one is then the duplicate, naming the first file.
  const std::string message =
      error_message([&] { registry.load_file(plugin_path("good_scale")); }, StatusCode::Duplicate);
  EXPECT_NE(message.find("variant 'test_scale' is already registered by " + plugin_path("invalid_duplicate")),
            std::string::npos)
      << message;
}

TEST(BrokenPluginDetails, NotALibraryNamesTheFileOnce) {
  Registry registry;
  const std::string file = plugin_path("not_a_library");
  const std::string message = error_message([&] { registry.load_file(file); }, StatusCode::Plugin);
  const std::string prefix = file + ": not a loadable shared library: ";
  ASSERT_EQ(message.rfind(prefix, 0), 0u) << message;
  EXPECT_GT(message.size(), prefix.size()) << "the loader's reason follows";
  EXPECT_EQ(message.find(file, prefix.size()), std::string::npos) << message;
}

TEST(BrokenPluginDetails, OptionConflictKeepsTheBuiltinType) {
  Registry registry;
  error_message([&] { registry.load_file(plugin_path("invalid_option_conflict")); }, StatusCode::Plugin);
  const OptionDef* def = registry.schema()->find("model.hidden_dim");
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(def->type, Schema::builtin().find("model.hidden_dim")->type);
  EXPECT_EQ(registry.find("test_conflict"), nullptr);
}

}  // namespace
}  // namespace memtx::test
