// tests/plugin/good_plugin_test.cpp: a well-formed plugin loads, is described, extends the schema, creates
// working modules; the same file cannot be loaded twice (not even through another path spelling).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>

#include "plugin_test_util.hpp"

namespace memtx::test {
namespace {

TEST(GoodPlugin, LoadsAndReportsItsRecord) {
  Registry registry;
  const size_t builtin_options = registry.schema()->options().size();
  PluginRecord record = registry.load_file(plugin_path("good_scale"));
  EXPECT_EQ(record.file, plugin_path("good_scale"));
  EXPECT_EQ(record.name, "good_scale");
  EXPECT_EQ(record.version, "1.2.3");
  EXPECT_EQ(record.variants, std::vector<std::string>{"test_scale"});

  EXPECT_EQ(registry.variant_names(), std::vector<std::string>{"test_scale"});
  ASSERT_EQ(registry.plugins().size(), 1u);
  EXPECT_EQ(registry.plugins()[0].file, record.file);
  EXPECT_TRUE(registry.failures().empty());

  const VariantDesc* desc = registry.find("test_scale");
  ASSERT_NE(desc, nullptr);
  EXPECT_EQ(desc->plugin_file, record.file);
  ASSERT_EQ(desc->options.size(), 1u);
  EXPECT_EQ(desc->options[0].key, "attention.test_scale_init");
  EXPECT_EQ(registry.find("test_shift"), nullptr);

  // The schema gains the plugin's key; the built-in schema does not.
  auto schema = registry.schema();
  EXPECT_EQ(schema->options().size(), builtin_options + 1);
  const OptionDef* def = schema->find("attention.test_scale_init");
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(def->type, ValueType::Float);
  EXPECT_EQ(def->default_value, Value(1.0));
  EXPECT_EQ(Schema::builtin().find("attention.test_scale_init"), nullptr);

  // And its rule, which validate() runs and the reference lists; the built-in schema has neither.
  EXPECT_EQ(schema->rules().size(), Schema::builtin().rules().size() + 1);
  Config config(schema);
  config.validate();
  config.set("attention.test_scale_init", Value(0.0));
  try {
    config.validate();
    ADD_FAILURE() << "the plugin's rule did not run";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "attention.test_scale_init must not be 0");
  }
  EXPECT_NE(schema->markdown_reference().find("- `attention.test_scale_init` is not 0"), std::string::npos);
  EXPECT_EQ(Schema::builtin().markdown_reference().find("test_scale_init"), std::string::npos);
}

TEST(GoodPlugin, DescribeJsonListsPluginVariantAndOption) {
  Registry registry;
  registry.load_file(plugin_path("good_scale"));
  const auto json = nlohmann::json::parse(registry.describe_json());

  ASSERT_EQ(json.at("plugins").size(), 1u);
  const auto& plugin = json["plugins"][0];
  EXPECT_EQ(plugin.at("file"), plugin_path("good_scale"));
  EXPECT_EQ(plugin.at("name"), "good_scale");
  EXPECT_EQ(plugin.at("version"), "1.2.3");
  EXPECT_EQ(plugin.at("variants"), nlohmann::json::array({"test_scale"}));

  ASSERT_EQ(json.at("variants").size(), 1u);
  const auto& variant = json["variants"][0];
  EXPECT_EQ(variant.at("name"), "test_scale");
  EXPECT_EQ(variant.at("plugin"), plugin_path("good_scale"));
  EXPECT_EQ(variant.at("recurrent"), false);
  EXPECT_FALSE(variant.at("description").get<std::string>().empty());
  ASSERT_EQ(variant.at("options").size(), 1u);
  const auto& option = variant["options"][0];
  EXPECT_EQ(option.at("key"), "attention.test_scale_init");
  EXPECT_EQ(option.at("type"), value_type_name(ValueType::Float));
  EXPECT_DOUBLE_EQ(option.at("default").get<double>(), 1.0);
  EXPECT_EQ(option.at("doc"), "Initial value of the test_scale weight.");

  EXPECT_TRUE(json.at("failures").empty());
}

TEST(GoodPlugin, CreatesAWorkingModule) {
  Registry registry;
  registry.load_file(plugin_path("good_scale"));
  auto module = registry.create("test_scale", small_spec("test_scale"));
  ASSERT_NE(module, nullptr);
  EXPECT_EQ(module->parameters().size(), 1u);
  EXPECT_FALSE(module->is_recurrent());

  const torch::Tensor x = torch::arange(24, torch::kFloat).reshape({1, 3, 8});
  AttentionContext ctx;
  EXPECT_TRUE(torch::allclose(module->forward(x, ctx), x));
  {
    torch::NoGradGuard no_grad;
    module->parameters()[0].fill_(3.0);
  }
  EXPECT_TRUE(torch::allclose(module->forward(x, ctx), x * 3.0));

  // Backward reaches the plugin's parameter.
  module->forward(x, ctx).sum().backward();
  EXPECT_TRUE(module->parameters()[0].grad().defined());
}

// A config made from a plugin's schema may outlive the registry: the plugin's rules (code in the plugin) keep
// its library loaded, so validating and destroying the config afterwards is safe.
TEST(GoodPlugin, ConfigOutlivesTheRegistryThatLoadedItsRules) {
  std::optional<Config> config;
  {
    Registry registry;
    registry.load_file(plugin_path("good_scale"));
    config.emplace(registry.schema());
  }
  config->set("attention.test_scale_init", Value(0.0));
  try {
    config->validate();
    ADD_FAILURE() << "the plugin's rule did not run";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "attention.test_scale_init must not be 0");
  }
  config.reset();
}

TEST(GoodPlugin, FactoryReadsItsOptionFromTheConfig) {
  Registry registry;
  registry.load_file(plugin_path("good_scale"));
  Config config(registry.schema());
  EXPECT_DOUBLE_EQ(config.get_float("attention.test_scale_init"), 1.0);
  config.set("attention.test_scale_init", Value(2.5));
  AttentionSpec spec = small_spec("test_scale");
  spec.config = &config;
  auto module = registry.create("test_scale", spec);
  const torch::Tensor x = torch::ones({2, 2, 8});
  AttentionContext ctx;
  EXPECT_TRUE(torch::allclose(module->forward(x, ctx), x * 2.5));
}

TEST(GoodPlugin, LoadingTheSameFileTwiceIsDuplicate) {
  Registry registry;
  registry.load_file(plugin_path("good_scale"));
  const Snapshot before = snapshot(registry);
  const std::string message =
      error_message([&] { registry.load_file(plugin_path("good_scale")); }, StatusCode::Duplicate);
  EXPECT_EQ(message, plugin_path("good_scale") + ": already loaded");
  expect_same(before, snapshot(registry));

  // Another spelling of the same file: a relative path with "..", and a symbolic link.
  const std::string dotted = plugin_dir() + "/../plugins/./libgood_scale.so";
  error_message([&] { registry.load_file(dotted); }, StatusCode::Duplicate);

  namespace fs = std::filesystem;
  const fs::path tmp = fs::temp_directory_path() / ("memtx_plugin_link_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  const fs::path link = tmp / "libalias.so";
  fs::remove(link);
  fs::create_symlink(plugin_path("good_scale"), link);
  const std::string via_link = error_message([&] { registry.load_file(link.string()); }, StatusCode::Duplicate);
  EXPECT_NE(via_link.find("already loaded"), std::string::npos) << via_link;
  fs::remove_all(tmp);
  expect_same(before, snapshot(registry));
}

TEST(GoodPlugin, TwoPluginsCoexist) {
  Registry registry;
  registry.load_file(plugin_path("good_shift"));
  registry.load_file(plugin_path("good_scale"));
  EXPECT_EQ(registry.variant_names(), (std::vector<std::string>{"test_scale", "test_shift"}));
  ASSERT_EQ(registry.plugins().size(), 2u);
  EXPECT_EQ(registry.plugins()[0].name, "good_shift");  // load order
  EXPECT_EQ(registry.plugins()[1].name, "good_scale");
  auto shift = registry.create("test_shift", small_spec("test_shift"));
  const torch::Tensor x = torch::zeros({1, 2, 8});
  AttentionContext ctx;
  EXPECT_TRUE(torch::allclose(shift->forward(x, ctx), x + 1.0));
}

TEST(GoodPlugin, UnknownVariantListsRegisteredNames) {
  Registry registry;
  EXPECT_EQ(error_message([&] { registry.create("nope", small_spec("nope")); }, StatusCode::NotFound),
            "unknown attention variant 'nope'; registered: (none)");
  registry.load_file(plugin_path("good_shift"));
  registry.load_file(plugin_path("good_scale"));
  EXPECT_EQ(error_message([&] { registry.create("test_scal", small_spec("test_scal")); }, StatusCode::NotFound),
            "unknown attention variant 'test_scal'; registered: test_scale, test_shift");
}

TEST(GoodPlugin, MissingFileIsNotFound) {
  Registry registry;
  const std::string missing = plugin_dir() + "/libdoes_not_exist.so";
  EXPECT_EQ(error_message([&] { registry.load_file(missing); }, StatusCode::NotFound), missing + ": no such file");
  error_message([&] { registry.load_file(""); }, StatusCode::NotFound);
}

}  // namespace
}  // namespace memtx::test
