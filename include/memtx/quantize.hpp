// memtx/quantize.hpp: row-wise symmetric quantisation of memory banks (memory.quantize_memory,
// memory.memory_quant_bits = b in {4, 8}), shared by the memory plugin (training through fake_quantize_rows) and
// the host (model files store a quantised bank as codes and scales). With Q = 2^(b-1) - 1 (127 or 7):
//   scale_i = max_j |x_ij| / Q,   code_ij = round(x_ij / scale_i) in [-Q, Q],   deq_ij = code_ij * scale_i
// so |x_ij - deq_ij| <= scale_i / 2 (a row of zeros has scale 0 and dequantises to zeros). Quantising a
// dequantised tensor again gives the same codes (the scale is its own row maximum over Q).
// Packed storage: 8-bit codes as int8 [rows, cols]; 4-bit codes two per byte, uint8 [rows, ceil(cols / 2)], the
// low nibble holding column 2k and the high nibble column 2k + 1, each as code + 8 (1..15; 0 pads an odd row).
#pragma once
#include <torch/torch.h>

#include "memtx/export.h"

namespace memtx {

struct QuantizedRows {
  torch::Tensor codes;   // int8 [rows, cols], entries in [-Q, Q]
  torch::Tensor scales;  // float32 [rows, 1]
};

// Error(Config) for bits other than 4 and 8, Error(InvalidArgument) for a tensor that is not 2-d.
MEMTX_API QuantizedRows quantize_rows(const torch::Tensor& x, int64_t bits);
// codes * scales in dtype.
MEMTX_API torch::Tensor dequantize_rows(const QuantizedRows& q, torch::ScalarType dtype);
// The straight-through estimator: the value of dequantize_rows(quantize_rows(x)), the gradient of x.
MEMTX_API torch::Tensor fake_quantize_rows(const torch::Tensor& x, int64_t bits);

// codes -> the packed storage above, and back (cols: the unpacked row length).
MEMTX_API torch::Tensor pack_codes(const torch::Tensor& codes, int64_t bits);
MEMTX_API torch::Tensor unpack_codes(const torch::Tensor& packed, int64_t bits, int64_t cols);

}  // namespace memtx
