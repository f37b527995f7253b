// memtx/memory.hpp: the interface of memory-token cross-attention, the sublayer the model adds to the blocks
// chosen by memory.memory_layer_placement. The "memory" variant (plugins/memory) implements it; the model
// creates it through the registry like any variant and finds these extra calls with dynamic_cast.
//   A bank holds N_m learned memory vectors (the tensors memory.memory_sharing shares). The model creates one
//   bank per sharing group with make_bank() of the group's first layer, registers it once (parameter names
//   "memory_banks.<j>.*", so the optimizer and checkpoints see each bank once) and binds it to every layer of
//   the group; a layer keeps an unregistered reference.
//   A memory layer computes, from the block's normalised hidden state x [B, T, D], softmax(q K^T / sqrt(d)) V
//   over the bank (non-causal over the memory vectors, no RoPE) and its output projection; with chapters a
//   router picks which part of the bank each sequence or token reads, and auxiliary_loss() returns the
//   weighted router losses of the last forward.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "memtx/attention.hpp"
#include "memtx/export.h"

namespace memtx {

class MEMTX_API MemoryBankImpl : public torch::nn::Module {
 public:
  ~MemoryBankImpl() override = default;
  // The memory vectors as attention reads them, [num_tokens(), width()]: decompressed (low rank) and
  // dequantised (quantised banks; gradients reach the stored tensors through a straight-through estimator).
  virtual torch::Tensor read() = 0;
  // Draws the stored tensors (memory.memory_init_std); called by the model after seeding.
  virtual void reset_parameters() = 0;
  virtual int64_t num_tokens() const = 0;
  virtual int64_t width() const = 0;
};

class MEMTX_API MemoryLayerImpl : public AttentionModuleImpl {
 public:
  ~MemoryLayerImpl() override = default;
  // A new bank of the shape this layer reads, not yet initialised (the model calls reset_parameters()).
  virtual std::shared_ptr<MemoryBankImpl> make_bank() const = 0;
  // The bank forward() reads; held by reference, not registered as a submodule.
  virtual void bind_bank(std::shared_ptr<MemoryBankImpl> bank) = 0;
  virtual std::shared_ptr<MemoryBankImpl> bank() const = 0;
  // True when forward() leaves a weighted router loss in auxiliary_loss() (chapters with a loss enabled):
  // the model then does not recompute the block under gradient checkpointing, whose first pass records no graph.
  virtual bool has_router_loss() const { return false; }
  // The unweighted router losses of the last forward ("load_balance", "auxiliary", "z_loss"); empty without
  // chapters. The trainer logs them.
  virtual std::map<std::string, torch::Tensor> router_losses() const { return {}; }
};

}  // namespace memtx
