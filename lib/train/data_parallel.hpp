// train/data_parallel.hpp: data-parallel training (ddp) over a c10d process group (dist/process_group.hpp),
// joined from the torchrun environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT).
//
// Every rank reads the same packed stream and keeps its own rows of each global batch: with W ranks of batch b,
// rank r trains rows [r*b, (r+1)*b) of the W*b rows one process of batch W*b would train, so the data cursor is
// the same on every rank and a checkpoint resumes exactly at any world size. Per optimizer step:
//   N = sum over ranks of the step's target count;  objective_r = sum of rank r's token losses / N
//   g = sum over ranks of grad(objective_r)          (= the gradient of the mean over the W*b rows)
// so the loss, the gradients, the non-finite checks and the clipping norm are those of one process with the
// doubled batch, and every rank takes the same decisions. Rank 0 alone writes checkpoints, metrics and the
// final model; the others wait for it. Losses on statistics of the whole batch (the memory router's) add the
// statistics over the ranks through global_batch(), in the forward pass.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/packing_iterator.hpp"
#include "dist/process_group.hpp"
#include "memtx/attention.hpp"
#include "memtx/config.hpp"
#include "memtx/export.h"

namespace memtx {
class TransformerImpl;
}

namespace memtx::train {

class MEMTX_API DataParallel {
 public:
  // The group of this process's distributed run, or null when the environment names none (WORLD_SIZE unset or
  // 1). Joins it (Gloo for a CPU model, NCCL for CUDA), then refuses a rank whose resolved configuration differs
  // from rank 0's (Error(Config) naming the ranks).
  static std::unique_ptr<DataParallel> from_environment(const Config& config, const torch::Device& device);

  explicit DataParallel(dist::ProcessGroup group);
  DataParallel(DataParallel&&) = delete;  // global_batch() refers to group_

  dist::ProcessGroup& group() { return group_; }
  int rank() const { return group_.rank(); }
  int size() const { return group_.size(); }
  bool is_main() const { return group_.rank() == 0; }

  // This rank's rows of a global batch of size() * per_rank rows (the last batch of the data may be shorter:
  // then a rank may get fewer rows, or none: an empty Batch).
  data::Batch local_rows(const data::Batch& global, int64_t per_rank) const;
  // Whether every rank gets at least one row of a global batch of `rows` rows.
  bool every_rank_has_rows(int64_t rows, int64_t per_rank) const { return rows > per_rank * (size() - 1); }

  // Sums over the ranks for the layers' global-batch losses (memtx/attention.hpp GlobalBatch): the value is the
  // sum over the ranks, the gradient this rank's share times size() (the trainer divides each rank's
  // auxiliary loss by size() and sums the gradients).
  const GlobalBatch& global_batch() const { return *global_batch_; }

  std::vector<int64_t> sum(const std::vector<int64_t>& values);  // element-wise, in one collective
  double sum(double value);
  bool any(bool flag);  // true on every rank when it is true on one
  // The value of the lowest rank that has one (the same on every rank); nullopt when none has.
  std::optional<std::string> first_of_ranks(const std::optional<std::string>& value);

  // Sums every gradient over the ranks (an undefined gradient counts as zeros and becomes defined), in buckets.
  void sum_gradients(const std::vector<std::pair<std::string, torch::Tensor>>& params);
  // ZeRO's collectives (sharded_optimizer.hpp): flat 1-d tensors, whole = size() parts (dist/process_group.hpp).
  void reduce_scatter_sum(const torch::Tensor& whole, torch::Tensor& part) { group_.reduce_scatter_sum(whole, part); }
  void all_gather(const torch::Tensor& part, torch::Tensor& whole) { group_.all_gather_flat(part, whole); }
  std::vector<std::vector<int64_t>> all_gather(const std::vector<int64_t>& values) {
    return group_.all_gather_int64(values);
  }
  // Every rank's parameters and buffers become rank 0's.
  void broadcast_model(TransformerImpl& model);
  void barrier();

 private:
  dist::ProcessGroup group_;
  std::unique_ptr<GlobalBatch> global_batch_;
};

}  // namespace memtx::train
