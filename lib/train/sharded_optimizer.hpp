// train/sharded_optimizer.hpp: optimizer-state and gradient sharding (ZeRO stage 2), what a data-parallel run
// does with training.distributed_strategy: fsdp and fsdp_sharding_strategy: SHARD_GRAD_OP.
//
// Layout: the trainable parameters, in group order, laid end to end as one flat vector of N elements, padded
// with zeros to W*S elements (S = ceil(N / W)); rank r owns the range [r*S, (r+1)*S). The part of a parameter
// inside this rank's range is a "piece": a 1-d view of the parameter's own storage. One optimizer step:
//   g_r    = reduce_scatter_sum(flat(gradients))  rank r receives the sum over the ranks of its range only;
//                                                  the full gradients are freed
//   ||g||^2 = sum over ranks of ||g_r||^2          the global norm, for clipping and logging
//   pieces <- AdamW / Adam / SGD(pieces, g_r)      the inner torch optimizer holds state for the pieces only:
//                                                  1/W of what a ddp rank holds (all three are element-wise, so
//                                                  updating pieces = updating whole tensors)
//   params = all_gather(flat(pieces))              every rank gets every range back
// So the step is ddp's (the same sums, up to the order of additions in the norm) with 1/W of the optimizer
// state and of the reduced gradients on each rank. The parameters themselves stay whole on every rank
// (FULL_SHARD, which shards them too, is not implemented).
//
// Checkpoints stay the single-file layout of ddp and one process: gather_full_optimizer() assembles, on
// every rank, an optimizer over the whole parameters holding the whole state (the tensors ddp would save), and
// load_full() takes this rank's range of such an optimizer, so a checkpoint resumes at any world size and
// under either strategy. Both hold the whole state for a moment (like FSDP's full state dict).
// Every member that communicates is a collective: every rank calls it, in the same order.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "memtx/export.h"
#include "train/data_parallel.hpp"
#include "train/optimizer.hpp"
#include "train/param_groups.hpp"

namespace memtx::train {

class MEMTX_API ShardedOptimizer {
 public:
  // Error(Config) when the trainable parameters are not all of one dtype and device, or one is not contiguous.
  ShardedOptimizer(const std::vector<ParamGroup>& groups, const OptimizerSettings& settings, DataParallel& dp);

  // The inner optimizer over this rank's pieces, and its groups (the full groups' names, learning rates and
  // weight decays; a group may hold no piece on this rank).
  torch::optim::Optimizer& optimizer() { return *inner_; }
  const std::vector<ParamGroup>& piece_groups() const { return piece_groups_; }
  // (parameter name, piece) of this rank, in flat order: what the loss scaler, the non-finite check and the
  // clipping work on after reduce_scatter_gradients().
  const std::vector<std::pair<std::string, torch::Tensor>>& pieces() const { return pieces_; }

  void zero_grad();                 // frees the parameters' and the pieces' gradients
  void reduce_scatter_gradients();  // collective: the pieces' gradients become the sums over the ranks
  void step();                      // the inner step, then the all-gather of the parameters (collective)

  // Bytes of optimizer state this rank holds.
  int64_t state_bytes() const;
  // An optimizer over the whole parameters, without state (what a checkpoint is loaded into).
  std::unique_ptr<torch::optim::Optimizer> empty_full_optimizer() const;
  // Collective: an optimizer over the whole parameters holding every rank's state.
  std::unique_ptr<torch::optim::Optimizer> gather_full_optimizer();
  // This rank's range of full's state (full: over the groups given to the constructor).
  void load_full(const torch::optim::Optimizer& full);

 private:
  struct Slot {  // a trainable parameter's place in the flat vector
    std::string name;
    torch::Tensor param;
    int64_t offset = 0;
    int64_t piece = -1;  // index into pieces_, or -1 when no element is in this rank's range
    int64_t piece_begin = 0, piece_length = 0;  // within the parameter's elements
  };
  torch::Tensor flat_pieces(const std::vector<torch::Tensor>& per_piece) const;  // [S]: per-piece tensors placed
  std::vector<std::string> state_fields() const;

  DataParallel& dp_;
  std::vector<ParamGroup> groups_;
  OptimizerSettings settings_;
  std::vector<Slot> slots_;
  int64_t total_ = 0, shard_ = 0, first_ = 0;  // N, S, and r*S
  torch::TensorOptions options_;
  std::vector<std::pair<std::string, torch::Tensor>> pieces_;
  std::vector<ParamGroup> piece_groups_;
  std::unique_ptr<torch::optim::Optimizer> inner_;
};

}  // namespace memtx::train
