// memory/memory_bank.cpp: bank storage, initialisation and quantisation (equations in memory_bank.hpp).
#include "memory_bank.hpp"

#include <memtx/error.hpp>

#include <cmath>

namespace memtx::memory {

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
  return shape_.quant_bits ? fake_quantize_rows(t, shape_.quant_bits) : t;
}

torch::Tensor MemoryBankModule::read() {
  if (factor_a.defined()) return torch::matmul(stored(factor_a), stored(factor_b).t());
  return stored(memory);
}

}  // namespace memtx::memory
