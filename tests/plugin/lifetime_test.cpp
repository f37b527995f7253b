// tests/plugin/lifetime_test.cpp: a module created by a plugin keeps the plugin library loaded; it may
// outlive the Registry that created it.
#include <dlfcn.h>

#include "plugin_test_util.hpp"

namespace memtx::test {
namespace {

// True when the library is currently loaded in this process (RTLD_NOLOAD never loads it).
bool is_loaded(const std::string& file) {
  void* handle = ::dlopen(file.c_str(), RTLD_LAZY | RTLD_NOLOAD);
  if (!handle) return false;
  ::dlclose(handle);
  return true;
}

// True when a plugin library is really unloaded once nothing holds it (glibc keeps some libraries resident,
// e.g. those that define GNU unique symbols first); the "unloaded afterwards" checks apply only then.
bool unloads_when_released(const std::string& file) {
  { Registry registry; registry.load_file(file); }
  return !is_loaded(file);
}

TEST(PluginLifetime, RegistryUnloadsItsLibraries) {
  const std::string file = plugin_path("good_scale");
  {
    Registry registry;
    registry.load_file(file);
    EXPECT_TRUE(is_loaded(file));
  }
  if (!unloads_when_released(file)) GTEST_SKIP() << file << " stays resident in this process";
  EXPECT_FALSE(is_loaded(file));
}

TEST(PluginLifetime, ModuleOutlivesItsRegistry) {
  const std::string file = plugin_path("good_scale");
  const bool unloads = unloads_when_released(file);
  std::shared_ptr<AttentionModuleImpl> module;
  {
    Registry registry;
    registry.load_file(file);
    EXPECT_TRUE(is_loaded(file));
    module = registry.create("test_scale", small_spec("test_scale"));
  }
  // The registry is gone; the module's code (vtable, forward) must still be there.
  EXPECT_TRUE(is_loaded(file));
  const torch::Tensor x = torch::full({2, 3, 8}, 2.0);
  AttentionContext ctx;
  EXPECT_TRUE(torch::allclose(module->forward(x, ctx), x));
  EXPECT_FALSE(module->name().empty());
  auto copy = module;  // copies share the same keeper
  module.reset();
  EXPECT_TRUE(torch::allclose(copy->forward(x, ctx), x));
  EXPECT_TRUE(is_loaded(file));
  copy.reset();  // releases the module, then the library: must not crash
  if (unloads) {
    EXPECT_FALSE(is_loaded(file)) << "the last module released the library";
  }
}

TEST(PluginLifetime, ManyModulesAndRegistries) {
  const std::string file = plugin_path("good_shift");
  std::vector<std::shared_ptr<AttentionModuleImpl>> modules;
  for (int i = 0; i < 3; ++i) {
    Registry registry;
    registry.load_file(file);
    modules.push_back(registry.create("test_shift", small_spec("test_shift")));
    modules.push_back(registry.create("test_shift", small_spec("test_shift")));
  }
  const torch::Tensor x = torch::zeros({1, 1, 8});
  AttentionContext ctx;
  while (!modules.empty()) {
    EXPECT_TRUE(torch::allclose(modules.back()->forward(x, ctx), x + 1.0));
    modules.pop_back();
  }
}

}  // namespace
}  // namespace memtx::test
