// causal/causal_keys.hpp: the keys and rules of the causal and infinite variants (no LibTorch).
#pragma once
#include <memtx/option.hpp>

namespace memtx::causal {

// attention.attn_logit_softcapping, the Flash LoBo sink keys, the decoupled head sizes (n_qk_head_dim,
// n_v_head_dim, n_cproj, use_concat_heads) and QK-norm; the LoBo and RoPE-size rules.
VariantKeys causal_keys();

}  // namespace memtx::causal
