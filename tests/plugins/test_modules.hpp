// tests/plugins/test_modules.hpp: the tiny attention modules the test plugins register. Each plugin gets
// its own copy (anonymous namespace), as real plugins would.
#pragma once
#include <memtx/plugin.h>

#include <memory>
#include <string>

namespace {

// forward(x) = x * weight, weight a single learnable scalar.
class ScaleAttentionImpl : public memtx::AttentionModuleImpl {
 public:
  explicit ScaleAttentionImpl(double init) { weight = register_parameter("weight", torch::full({1}, init)); }
  torch::Tensor forward(const torch::Tensor& x, memtx::AttentionContext& ctx) override {
    (void)ctx;
    return x * weight;
  }
  torch::Tensor weight;
};

// forward(x) = x + bias, bias a single learnable scalar.
class ShiftAttentionImpl : public memtx::AttentionModuleImpl {
 public:
  ShiftAttentionImpl() { bias = register_parameter("bias", torch::ones({1})); }
  torch::Tensor forward(const torch::Tensor& x, memtx::AttentionContext& ctx) override {
    (void)ctx;
    return x + bias;
  }
  torch::Tensor bias;
};

// A "test_scale"-style variant under any name; weight starts at attention.test_scale_init when the config
// knows that key, else at 1.
inline memtx::VariantDesc scale_variant(const std::string& name) {
  memtx::VariantDesc desc;
  desc.name = name;
  desc.description = "test: multiplies its input by one learnable scalar";
  memtx::OptionDef init;
  init.key = "attention.test_scale_init";
  init.type = memtx::ValueType::Float;
  init.default_value = memtx::Value(1.0);
  init.doc = "Initial value of the test_scale weight.";
  init.used_by = "test_scale";
  desc.options.push_back(init);
  desc.rules.push_back({"`attention.test_scale_init` is not 0 (a zero scale erases the input).",
                        {"attention.test_scale_init"},
                        [](const memtx::Config& c, std::vector<std::string>& errors) {
                          if (c.get_float("attention.test_scale_init") == 0.0)
                            errors.push_back("attention.test_scale_init must not be 0");
                        }});
  desc.factory = [](const memtx::AttentionSpec& spec) -> std::shared_ptr<memtx::AttentionModuleImpl> {
    double value = 1.0;
    if (spec.config && spec.config->schema().find("attention.test_scale_init")) {
      value = spec.config->get_float("attention.test_scale_init");
    }
    return std::make_shared<ScaleAttentionImpl>(value);
  };
  return desc;
}

inline memtx::VariantDesc shift_variant(const std::string& name) {
  memtx::VariantDesc desc;
  desc.name = name;
  desc.description = "test: adds one learnable scalar to its input";
  desc.factory = [](const memtx::AttentionSpec&) -> std::shared_ptr<memtx::AttentionModuleImpl> {
    return std::make_shared<ShiftAttentionImpl>();
  };
  return desc;
}

// A hand-written memtx_plugin_info (for the plugins with a deliberately wrong fingerprint): the host's
// values with the given fields overridden.
#define MEMTX_TEST_PLUGIN_INFO(name, abi_major, abi_minor, torch_major, torch_minor, cxx11_abi)      \
  extern "C" MEMTX_API_EXPORT const struct memtx_plugin_info* memtx_plugin_info(void) {              \
    static const struct memtx_plugin_info info = {abi_major,   abi_minor,   name,     "0.0.1",       \
                                                  torch_major, torch_minor, cxx11_abi};              \
    return &info;                                                                                    \
  }

}  // namespace
