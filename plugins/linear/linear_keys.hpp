// linear/linear_keys.hpp: the keys of the linear variant (no LibTorch).
#pragma once
#include <memtx/option.hpp>

namespace memtx::linear {

// attention.linear_chunk_size.
VariantKeys linear_keys();

}  // namespace memtx::linear
