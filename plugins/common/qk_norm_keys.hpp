// common/qk_norm_keys.hpp: the QK-norm keys that causal and infini both read (attention.use_qk_norm,
// attention.use_qk_norm_scale) and their rule, declared once for both plugins. No LibTorch.
#pragma once
#include <memtx/option.hpp>

namespace memtx::common {

VariantKeys qk_norm_keys();

}  // namespace memtx::common
