// ssm/ssm_keys.cpp: the keys of the Mamba selective state-space mixer (sizes, biases, scan implementation).
#include "ssm/ssm_keys.hpp"

namespace memtx::ssm {

VariantKeys ssm_keys() {
  using VT = ValueType;
  VariantKeys keys;
  keys.options = {
      Option("attention.ssm_mamba_expand", VT::Int, 2).min(1).max(64).by("ssm")
          .doc("Mamba inner width as a multiple of hidden_dim."),
      Option("attention.ssm_conv_kernel_size", VT::Int, 3).min(1).max(4096).by("ssm")
          .doc("Width of Mamba's causal depthwise convolution (the original Mamba uses 4)."),
      Option("attention.ssm_dt_rank", VT::Int, 8).min(1).max(65536).by("ssm")
          .doc("Rank of the low-rank projection that produces the time step dt."),
      Option("attention.ssm_d_state", VT::Int, 16).min(1).max(65536).by("ssm")
          .doc("Size of each channel's state vector."),
      Option("attention.ssm_io_bias", VT::Bool, false).by("ssm")
          .doc("Add biases to Mamba's input and output projections."),
      Option("attention.ssm_scan", VT::String, "auto").choices({"auto", "sequential", "chunked"}).by("ssm")
          .doc("Selective-scan implementation: sequential (the reference loop, any device), chunked (the fast scan: "
               "the CPU loop, or the CUDA kernel on CUDA tensors), or auto (chunked on the CPU and on CUDA when this "
               "build has the CUDA kernel, sequential elsewhere)."),
  };
  return keys;
}

}  // namespace memtx::ssm
