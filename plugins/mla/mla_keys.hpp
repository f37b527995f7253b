// mla/mla_keys.hpp: the keys and rules of the mla variant (no LibTorch).
#pragma once
#include <memtx/option.hpp>

namespace memtx::mla {

// attention.mla_* and use_mla_lobo; the rule that the rotary part is even.
VariantKeys mla_keys();

}  // namespace memtx::mla
