// ssm/ssm_keys.hpp: the keys of the ssm (Mamba) variant (no LibTorch).
#pragma once
#include <memtx/option.hpp>

namespace memtx::ssm {

// attention.ssm_mamba_expand, ssm_conv_kernel_size, ssm_dt_rank, ssm_d_state, ssm_io_bias, ssm_scan.
VariantKeys ssm_keys();

}  // namespace memtx::ssm
