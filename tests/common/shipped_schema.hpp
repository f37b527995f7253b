// tests/common/shipped_schema.hpp: the schema of memtx with its shipped plugins, built without LibTorch from
// the builtin schema and each plugin's declared keys and rules (plugins/<name>/<name>_keys.cpp, linked from
// memtx_plugin_keys) in the order the registry loads the plugins. tests/plugin checks that a context with the
// build tree's plugins has exactly this schema.
#pragma once
#include <memory>
#include <vector>

#include "causal/causal_keys.hpp"
#include "co4/co4_keys.hpp"
#include "infini/infini_keys.hpp"
#include "linear/linear_keys.hpp"
#include "memtx/option.hpp"
#include "mla/mla_keys.hpp"
#include "ssm/ssm_keys.hpp"

namespace memtx_test {

// What each shipped plugin declares, in the order the registry loads them (sorted file names).
inline std::vector<memtx::VariantKeys> shipped_plugin_keys() {
  return {memtx::causal::causal_keys(), memtx::co4::co4_keys(), memtx::infini::infini_keys(),
          memtx::linear::linear_keys(),  memtx::mla::mla_keys(), memtx::ssm::ssm_keys()};
}

inline std::shared_ptr<const memtx::Schema> shipped_schema() {
  static const std::shared_ptr<const memtx::Schema> schema = [] {
    auto s = std::make_shared<memtx::Schema>(memtx::Schema::builtin());
    for (const auto& keys : shipped_plugin_keys()) memtx::add_variant_keys(*s, keys);
    return std::shared_ptr<const memtx::Schema>(std::move(s));
  }();
  return schema;
}

}  // namespace memtx_test
