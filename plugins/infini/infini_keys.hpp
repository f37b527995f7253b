// infini/infini_keys.hpp: the keys of the infini variant (no LibTorch).
#pragma once
#include <memtx/option.hpp>

namespace memtx::infini {

// infini_attention.* except segment_length (the model reads that one), and QK-norm.
VariantKeys infini_keys();

}  // namespace memtx::infini
