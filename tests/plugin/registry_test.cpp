// tests/plugin/registry_test.cpp: in-process variants (add_variant), errors from factories, and concurrent
// use of one registry.
#include <atomic>
#include <stdexcept>
#include <thread>

#include "plugin_test_util.hpp"

namespace memtx::test {
namespace {

class IdentityImpl : public AttentionModuleImpl {
 public:
  torch::Tensor forward(const torch::Tensor& x, AttentionContext& ctx) override {
    (void)ctx;
    return x;
  }
};

VariantDesc identity(const std::string& name) {
  VariantDesc desc;
  desc.name = name;
  desc.description = "identity";
  desc.factory = [](const AttentionSpec&) -> std::shared_ptr<AttentionModuleImpl> {
    return std::make_shared<IdentityImpl>();
  };
  return desc;
}

TEST(BuiltinVariants, AddFindCreate) {
  Registry registry;
  registry.add_variant(identity("ident"));
  ASSERT_NE(registry.find("ident"), nullptr);
  EXPECT_EQ(registry.find("ident")->plugin_file, "<builtin>");
  ASSERT_EQ(registry.plugins().size(), 1u);
  EXPECT_EQ(registry.plugins()[0].file, "<builtin>");
  EXPECT_EQ(registry.plugins()[0].variants, std::vector<std::string>{"ident"});
  auto module = registry.create("ident", small_spec("ident"));
  const torch::Tensor x = torch::randn({1, 2, 8});
  AttentionContext ctx;
  EXPECT_TRUE(torch::equal(module->forward(x, ctx), x));

  registry.add_variant(identity("ident2"));
  EXPECT_EQ(registry.plugins().size(), 1u);  // one "<builtin>" record
  EXPECT_EQ(registry.plugins()[0].variants, (std::vector<std::string>{"ident", "ident2"}));
}

TEST(BuiltinVariants, RejectsBadNamesMissingFactoriesAndDuplicates) {
  Registry registry;
  registry.add_variant(identity("ident"));
  const Snapshot before = snapshot(registry);
  error_message([&] { registry.add_variant(identity("Ident")); }, StatusCode::InvalidArgument);
  error_message([&] { registry.add_variant(identity("")); }, StatusCode::InvalidArgument);
  VariantDesc no_factory = identity("nofactory");
  no_factory.factory = nullptr;
  error_message([&] { registry.add_variant(no_factory); }, StatusCode::InvalidArgument);
  const std::string dup = error_message([&] { registry.add_variant(identity("ident")); }, StatusCode::Duplicate);
  EXPECT_NE(dup.find("variant 'ident' is already registered by <builtin>"), std::string::npos) << dup;
  expect_same(before, snapshot(registry));

  // A plugin cannot take a builtin's name.
  registry.add_variant(identity("test_shift"));
  const std::string message =
      error_message([&] { registry.load_file(plugin_path("good_shift")); }, StatusCode::Duplicate);
  EXPECT_NE(message.find("already registered by <builtin>"), std::string::npos) << message;
}

TEST(BuiltinVariants, FactoryErrors) {
  Registry registry;
  VariantDesc throws = identity("throws");
  throws.factory = [](const AttentionSpec&) -> std::shared_ptr<AttentionModuleImpl> {
    throw std::runtime_error("cannot build");
  };
  registry.add_variant(throws);
  EXPECT_EQ(error_message([&] { registry.create("throws", small_spec("throws")); }, StatusCode::Plugin),
            "variant 'throws' (<builtin>): cannot build");

  VariantDesc config_error = identity("config_error");
  config_error.factory = [](const AttentionSpec&) -> std::shared_ptr<AttentionModuleImpl> {
    throw Error(StatusCode::Config, "bad option");
  };
  registry.add_variant(config_error);
  EXPECT_EQ(error_message([&] { registry.create("config_error", small_spec("x")); }, StatusCode::Config),
            "bad option");

  VariantDesc null = identity("null_module");
  null.factory = [](const AttentionSpec&) -> std::shared_ptr<AttentionModuleImpl> { return nullptr; };
  registry.add_variant(null);
  error_message([&] { registry.create("null_module", small_spec("x")); }, StatusCode::Plugin);
}

TEST(RegistryThreads, ConcurrentLoadsAndQueries) {
  Registry registry;
  registry.load_file(plugin_path("good_scale"));
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        try {
          if (t == 0 && i == 5) registry.load_file(plugin_path("good_shift"));
          auto module = registry.create("test_scale", small_spec("test_scale"));
          AttentionContext ctx;
          if (!torch::allclose(module->forward(torch::ones({1, 1, 8}), ctx), torch::ones({1, 1, 8}))) ++errors;
          (void)registry.variant_names();
          (void)registry.describe_json();
          (void)registry.schema();
        } catch (...) {
          ++errors;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(registry.variant_names(), (std::vector<std::string>{"test_scale", "test_shift"}));
}

}  // namespace
}  // namespace memtx::test
