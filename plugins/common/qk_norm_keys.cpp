// common/qk_norm_keys.cpp: attention.use_qk_norm and attention.use_qk_norm_scale, and the rule that the
// learned scale needs the normalisation (the scale replaces 1/sqrt(d) only for unit-RMS queries and keys).
#include "common/qk_norm_keys.hpp"

namespace memtx::common {

VariantKeys qk_norm_keys() {
  VariantKeys keys;
  keys.options = {
      Option("attention.use_qk_norm", ValueType::Bool, false).by("causal, infini")
          .doc("RMS-normalise queries and keys per head, with a learned gain, before their dot product."),
      Option("attention.use_qk_norm_scale", ValueType::Bool, false).by("causal, infini")
          .doc("Replace the fixed 1/sqrt(d) score scale by a learned scalar; requires use_qk_norm."),
  };
  keys.rules.push_back({"`attention.use_qk_norm_scale` requires `attention.use_qk_norm`.",
                        {"attention.use_qk_norm_scale", "attention.use_qk_norm"},
                        [](const Config& c, std::vector<std::string>& errors) {
                          if (c.get_bool("attention.use_qk_norm_scale") && !c.get_bool("attention.use_qk_norm"))
                            errors.push_back("attention.use_qk_norm_scale requires attention.use_qk_norm: true");
                        }});
  return keys;
}

}  // namespace memtx::common
