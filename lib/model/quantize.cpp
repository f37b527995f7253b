// model/quantize.cpp: row-wise symmetric quantisation and packed 4/8-bit codes (memtx/quantize.hpp).
#include "memtx/quantize.hpp"

#include "memtx/error.hpp"

namespace memtx {

QuantizedRows quantize_rows(const torch::Tensor& x, int64_t bits) {
  if (bits != 4 && bits != 8)
    throw Error(StatusCode::Config, "memory.memory_quant_bits = " + std::to_string(bits) + ": expected 4 or 8");
  if (x.dim() != 2) throw Error(StatusCode::InvalidArgument, "quantize_rows: expected a 2-d tensor");
  const double q_max = static_cast<double>((int64_t{1} << (bits - 1)) - 1);
  torch::NoGradGuard no_grad;
  auto xf = x.detach().to(torch::kFloat32);
  auto scales = xf.abs().amax(1, /*keepdim=*/true) / q_max;
  auto safe = torch::where(scales > 0, scales, torch::ones_like(scales));
  auto codes = torch::round(xf / safe).clamp(-q_max, q_max).to(torch::kInt8);
  return {codes, scales};
}

torch::Tensor dequantize_rows(const QuantizedRows& q, torch::ScalarType dtype) {
  return (q.codes.to(torch::kFloat32) * q.scales.to(torch::kFloat32)).to(dtype);
}

torch::Tensor fake_quantize_rows(const torch::Tensor& x, int64_t bits) {
  auto deq = dequantize_rows(quantize_rows(x, bits), x.scalar_type());
  return x + (deq - x).detach();
}

torch::Tensor pack_codes(const torch::Tensor& codes, int64_t bits) {
  if (codes.dim() != 2 || codes.scalar_type() != torch::kInt8)
    throw Error(StatusCode::InvalidArgument, "pack_codes: expected int8 codes [rows, cols]");
  if (bits == 8) return codes.contiguous();
  if (bits != 4) throw Error(StatusCode::InvalidArgument, "pack_codes: bits must be 4 or 8, got " + std::to_string(bits));
  auto biased = (codes.to(torch::kInt16) + 8).to(torch::kUInt8);  // 1..15
  if (biased.size(1) % 2) biased = torch::cat({biased, torch::zeros({biased.size(0), 1}, biased.options())}, 1);
  auto pairs = biased.view({biased.size(0), -1, 2});
  return (pairs.select(2, 0) + pairs.select(2, 1) * 16).contiguous();
}

torch::Tensor unpack_codes(const torch::Tensor& packed, int64_t bits, int64_t cols) {
  if (packed.dim() != 2) throw Error(StatusCode::InvalidArgument, "unpack_codes: expected packed codes [rows, n]");
  if (bits == 8) {
    if (packed.scalar_type() != torch::kInt8 || packed.size(1) != cols)
      throw Error(StatusCode::InvalidArgument, "unpack_codes: 8-bit codes must be int8 [rows, " + std::to_string(cols) + "]");
    return packed;
  }
  if (bits != 4 || packed.scalar_type() != torch::kUInt8 || packed.size(1) != (cols + 1) / 2)
    throw Error(StatusCode::InvalidArgument,
                "unpack_codes: 4-bit codes must be uint8 [rows, " + std::to_string((cols + 1) / 2) + "]");
  auto wide = packed.to(torch::kInt16);
  auto low = wide.remainder(16), high = wide.div(16, "floor");
  auto both = torch::stack({low, high}, 2).view({packed.size(0), -1}).narrow(1, 0, cols);
  if ((both == 0).any().item<bool>())
    throw Error(StatusCode::InvalidArgument, "unpack_codes: a 4-bit code of 0 (codes are stored as code + 8 in 1..15)");
  return (both - 8).to(torch::kInt8);
}

}  // namespace memtx
