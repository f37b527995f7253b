// memory/memory_bank.cpp: bank storage, initialisation and quantisation (equations in memory_bank.hpp).
#include "memory_bank.hpp"

#include <memtx/error.hpp>

#include <cmath>

namespace memtx::memory {

Quantized quantize_rows(const torch::Tensor& x, int64_t bits) {
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

torch::Tensor dequantize(const Quantized& q, torch::ScalarType dtype) {
  return (q.codes.to(torch::kFloat32) * q.scales).to(dtype);
}

torch::Tensor fake_quantize(const torch::Tensor& x, int64_t bits) {
  auto deq = dequantize(quantize_rows(x, bits), x.scalar_type());
  return x + (deq - x).detach();
}

MemoryBankModule::MemoryBankModule(const BankShape& shape) : shape_(shape) {
  if (shape.num_tokens < 1 || shape.dim < 1)
    throw Error(StatusCode::Config, "memory bank: memory.num_memory_tokens and the memory width must be >= 1");
  if (!shape.low_rank.empty() && shape.rank < 1)
    throw Error(StatusCode::Config, "memory bank: memory.memory_rank must be >= 1");
  if (shape.low_rank == "factorized") {
    factor_a = register_parameter("factor_a", torch::zeros({shape.num_tokens, shape.rank}));
    factor_b = register_parameter("factor_b", torch::zeros({shape.dim, shape.rank}));
  } else if (shape.low_rank.empty() || shape.low_rank == "reduced_dim") {
    memory = register_parameter("memory", torch::zeros({shape.num_tokens, shape.width()}));
  } else {
    throw Error(StatusCode::Config, "memory.low_rank_mode: unknown mode '" + shape.low_rank +
                                        "' (expected factorized or reduced_dim)");
  }
}

void MemoryBankModule::reset_parameters() {
  torch::NoGradGuard no_grad;
  const double s = shape_.init_std;
  if (memory.defined()) memory.normal_(0.0, s);
  if (factor_a.defined()) {
    const double factor_std = std::sqrt(s) * std::pow(static_cast<double>(shape_.rank), -0.25);
    factor_a.normal_(0.0, factor_std);
    factor_b.normal_(0.0, factor_std);
  }
}

torch::Tensor MemoryBankModule::stored(const torch::Tensor& t) const {
  return shape_.quant_bits ? fake_quantize(t, shape_.quant_bits) : t;
}

torch::Tensor MemoryBankModule::read() {
  if (factor_a.defined()) return torch::matmul(stored(factor_a), stored(factor_b).t());
  return stored(memory);
}

}  // namespace memtx::memory
