// co4/co4_keys.hpp: the keys of the co4 variant (no LibTorch).
#pragma once
#include <memtx/option.hpp>

namespace memtx::co4 {

// attention.n_latent, triadic_loops, mod_fn, co4_causal.
VariantKeys co4_keys();

}  // namespace memtx::co4
