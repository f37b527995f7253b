// train/overlapped_gradient_sum.hpp: ddp's gradient sum overlapped with the backward pass. The trainable
// parameters are grouped, in reverse order (the backward pass produces the last layers' gradients first), into
// buckets of about bucket_cap_bytes; during the step's last backward pass (arm()), a hook that runs after a
// parameter's gradient is accumulated (LibTorch's post-accumulate-grad hook) marks it ready, and once every
// parameter of a bucket is, the bucket's gradients are copied into one flat buffer and its sum over the ranks
// is started while the backward pass goes on. finish() starts the buckets not started yet (parameters the pass
// did not reach count as zeros, as in DataParallel::sum_gradients), waits for every sum and writes them back
// into the gradients. Earlier micro-batches of a step are not armed: their gradients accumulate locally and
// are reduced once.
//
// Buckets are started strictly in bucket order, so every rank issues the same collectives in the same order
// whatever its graph, including a rank that had no rows of the last micro-batch (it starts them all in
// finish()). The sums are DataParallel::sum_gradients' (the same per-element additions). A gradient must be
// accumulated once per armed backward pass: nested backward passes (activation checkpointing recomputes blocks
// inside backward, and a bank shared by several blocks would accumulate more than once) are not supported, so
// the trainer sums after the backward pass then. A hook never throws: a failure to start a sum is kept and
// thrown by finish().
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "dist/process_group.hpp"
#include "memtx/export.h"

namespace memtx::train {

class MEMTX_API OverlappedGradientSum {
 public:
  // params: the trainable parameters (each once). Installs the hooks (replacing any post-accumulate-grad hook
  // the tensors had); the destructor removes them.
  OverlappedGradientSum(const std::vector<std::pair<std::string, torch::Tensor>>& params, dist::ProcessGroup& group,
                        int64_t bucket_cap_bytes);
  ~OverlappedGradientSum();
  OverlappedGradientSum(const OverlappedGradientSum&) = delete;
  OverlappedGradientSum& operator=(const OverlappedGradientSum&) = delete;

  void arm();     // the next backward pass is the step's last
  void finish();  // after it (also when this rank ran none): every gradient becomes its sum over the ranks

  size_t buckets() const { return buckets_.size(); }
  // Buckets whose sum started inside the last armed backward pass (the overlap), and over the whole run.
  int64_t started_in_backward() const { return started_in_backward_; }
  int64_t started_in_backward_total() const { return started_in_backward_total_; }

  // What the hook calls (public for the hook object only).
  void on_gradient_ready(size_t param);

 private:
  struct BucketState {
    std::vector<size_t> members;  // parameter indices
    size_t waiting = 0;           // members not yet ready in the armed pass
    bool started = false;
    torch::Tensor flat;
  };
  void reset();  // nothing ready, nothing started
  void start_ready_buckets();
  void start(BucketState& bucket);

  std::vector<std::pair<std::string, torch::Tensor>> params_;
  dist::ProcessGroup& group_;
  std::vector<BucketState> buckets_;
  std::vector<size_t> bucket_of_;  // by parameter
  std::vector<bool> ready_;
  size_t next_ = 0;  // the first bucket not started
  bool armed_ = false;     // hooks start buckets
  bool prepared_ = false;  // arm() was called since the last finish()
  std::exception_ptr failure_;
  int64_t started_in_backward_ = 0, started_in_backward_total_ = 0;
};

// The bucket size for a model of total_bytes of trainable parameters: a quarter of it (so the reduction has
// several pieces to overlap), at least 64 KiB and at most 25 MiB (PyTorch DDP's default).
MEMTX_API int64_t overlap_bucket_bytes(int64_t total_bytes);

}  // namespace memtx::train
