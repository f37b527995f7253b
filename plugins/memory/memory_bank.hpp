// memory/memory_bank.hpp: the memory bank (N_m learned vectors) and its quantisation.
//   Full:        M = memory                      [N_m, D_m], D_m = memory.memory_dim or hidden_dim
//   factorized:  M = A B^T, A = factor_a [N_m, r], B = factor_b [D_m, r]   (r = memory.memory_rank)
//   reduced_dim: M = memory [N_m, r]; the layer's key/value projections read width r
//   Initialisation: memory ~ N(0, s) with s = memory.memory_init_std; factors ~ N(0, sqrt(s) r^(-1/4)) so the
//   entries of A B^T have variance r (sqrt(s) r^(-1/4))^4 = s^2, as a full bank.
//   Quantisation (memory.quantize_memory, b = memory.memory_quant_bits in {4, 8}): every stored tensor is
//   quantised row by row, symmetric around 0 (memtx/quantize.hpp, shared with the host's model files). read() uses the
//   dequantised values and trains through a straight-through estimator: x + (deq - x).detach(), whose value
//   is deq and whose gradient reaches x unchanged. The float tensors are the master copy the optimizer
//   updates; the codes and scales are recomputed from them at every read().
#pragma once
#include <memtx/memory.hpp>
#include <memtx/quantize.hpp>

namespace memtx::memory {

struct BankShape {
  int64_t num_tokens = 0;   // N_m
  int64_t dim = 0;          // D_m (before any rank reduction)
  std::string low_rank;     // "", "factorized" or "reduced_dim"
  int64_t rank = 0;         // r for the low-rank forms
  int64_t quant_bits = 0;   // 0 = not quantised, else 4 or 8
  double init_std = 0.02;
  int64_t width() const { return low_rank == "reduced_dim" ? rank : dim; }
};

class MemoryBankModule : public MemoryBankImpl {
 public:
  explicit MemoryBankModule(const BankShape& shape);
  torch::Tensor read() override;
  void reset_parameters() override;
  int64_t num_tokens() const override { return shape_.num_tokens; }
  int64_t width() const override { return shape_.width(); }
  const BankShape& shape() const { return shape_; }

  torch::Tensor memory;              // full and reduced_dim banks
  torch::Tensor factor_a, factor_b;  // factorized banks

 private:
  torch::Tensor stored(const torch::Tensor& t) const;  // t, or its fake-quantised value
  BankShape shape_;
};

}  // namespace memtx::memory
