// model/packed_memory.hpp: quantised memory banks in model files. A model whose config sets
// memory.quantize_memory reads its banks through row-wise quantisation (memtx/quantize.hpp), so a saved model
// (final_model/, memtx_model_save) stores each 2-d bank tensor "memory_banks.<j>.<name>" as what is used:
//   "<tensor>.qcodes"   int8 [rows, cols] (8 bits) or uint8 [rows, ceil(cols / 2)] (4 bits, two codes a byte)
//   "<tensor>.qscales"  float32 [rows, 1]
// a quarter (8 bits) or an eighth (4 bits) of the float32 bytes. Loading dequantises them into the bank's
// float tensor, whose quantised read then gives the same codes and scales as before the save. Training
// checkpoints keep the float master copy the optimizer updates, so a resumed run continues exactly.
#pragma once
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "memtx/export.h"

namespace memtx {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

inline constexpr const char* kPackedCodesSuffix = ".qcodes";
inline constexpr const char* kPackedScalesSuffix = ".qscales";

// The quantisation bits of the model's banks (memory.memory_quant_bits), or 0 when the model is not a
// Transformer whose config sets memory.quantize_memory.
MEMTX_API int64_t quantized_memory_bits(const torch::nn::Module& model);

// A 2-d floating tensor under "memory_banks.": what pack_quantized_memory stores as codes and scales.
MEMTX_API bool is_quantized_bank_tensor(const std::string& name, const torch::Tensor& t);

// Replaces every is_quantized_bank_tensor by its codes and scales (bits 4 or 8).
MEMTX_API NamedTensors pack_quantized_memory(NamedTensors tensors, int64_t bits);

// Replaces every "<t>.qcodes" + "<t>.qscales" pair by "<t>" dequantised to float32, with cols taken from the
// model's tensor <t>. Error(Io) naming origin and the tensor for a half pair, a tensor the model lacks, or codes
// of the wrong dtype or shape. Tensors without the suffixes pass unchanged.
MEMTX_API NamedTensors unpack_quantized_memory(const torch::nn::Module& model, NamedTensors tensors, const std::string& origin);

}  // namespace memtx
