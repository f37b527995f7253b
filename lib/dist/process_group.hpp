// dist/process_group.hpp: the collectives of a distributed run over PyTorch's c10d, one object per process:
// it owns the rendezvous store (a TCPStore served by rank 0 at MASTER_ADDR:MASTER_PORT) and the backend (Gloo
// for CPU tensors; NCCL for CUDA tensors in a build with NCCL).
//
// - Every rank must make the same calls in the same order with tensors of the same dtypes and sizes (c10d's
//   rule); the bucket plan (dist/buckets.hpp) then matches across ranks.
// - Each step is bounded by GroupOptions::timeout: joining the store (a rank other than 0 retries its connection
//   until then, so up to about twice that), connecting the backend, and every collective. A failure (a peer
//   died or hung, the network broke) is Error(Io) naming the operation, this rank and, when it can be told, the
//   peer (a rank on this machine whose process has exited; rank 0 when its store is gone; the other rank of
//   two); after one the group is broken and every later call fails at once with the first failure's message.
// - A world of one process (WORLD_SIZE unset or 1) opens no socket: every collective returns its input.
// - Creating a group of more than one process ignores SIGPIPE when its handler is the default (the way Python
//   runs): the Gloo transport writes to sockets without MSG_NOSIGNAL, and a write to a peer that just died
//   would otherwise kill this process instead of failing the collective.
// - Not thread-safe: one thread at a time (c10d's collectives must be issued in one order anyway).
// Only memtx::Error leaves this class.
#pragma once
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dist/world.hpp"
#include "memtx/export.h"

namespace memtx::dist {

enum class BackendKind { Gloo, Nccl };
MEMTX_API const char* backend_name(BackendKind kind);
// Whether this build can create kind (Gloo: builds that found gloo's headers; Nccl: CUDA builds that found
// nccl.h). A world of one needs neither.
MEMTX_API bool backend_available(BackendKind kind);

struct GroupOptions {
  BackendKind backend = BackendKind::Gloo;
  std::chrono::milliseconds timeout{60000};  // rendezvous, and each collective
  int64_t bucket_bytes = 25 << 20;           // flat buffer size of the bucketed collectives
  // Create the store and backend even for a world of one (a one-GPU NCCL smoke run, tests); it then listens on
  // MASTER_PORT like rank 0 of a larger run.
  bool backend_for_one = false;
};

class MEMTX_API ProcessGroup {
 public:
  // Rendezvous and backend creation; Error(InvalidArgument) for bad options, Error(Io) when the rendezvous fails
  // (see dist/backend.hpp for the messages).
  explicit ProcessGroup(const World& world, const GroupOptions& options = {});
  ~ProcessGroup();
  ProcessGroup(ProcessGroup&&) noexcept;
  ProcessGroup& operator=(ProcessGroup&&) noexcept;
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const;
  int size() const;
  const World& world() const;
  const GroupOptions& options() const;
  bool has_backend() const;  // false for a world of one without backend_for_one

  // In place, over every rank: each tensor becomes the sum (mean: the sum / size(), floating-point tensors only)
  // of that tensor on all ranks. Tensors are packed into flat buckets of options().bucket_bytes per dtype and
  // device (one collective per bucket). Error(InvalidArgument) for an undefined, sparse or unsupported tensor.
  void all_reduce_sum(const std::vector<torch::Tensor>& tensors);
  void all_reduce_mean(const std::vector<torch::Tensor>& tensors);

  // Asynchronous sum, for overlapping communication with computation: starts summing one contiguous 1-d
  // floating-point tensor in place over the ranks and returns at once (leave the tensor alone until
  // wait_started()); wait_started() waits for every sum started since the last wait, in start order. Failures
  // are all_reduce_sum's, reported by either call. Start no other collective in between that a peer could
  // issue in another order.
  void start_all_reduce_sum(const torch::Tensor& flat);
  void wait_started();

  // In place: every rank's tensors become root's (bucketed like all_reduce).
  void broadcast(const std::vector<torch::Tensor>& tensors, int root = 0);

  // Flat sharded collectives (ZeRO): input/output are contiguous 1-d tensors of one floating-point dtype on
  // this group's device kind, with input.numel() == size() * output.numel().
  // reduce_scatter_sum: output = the sum over the ranks of input's rank()-th chunk of output.numel() elements.
  // all_gather_flat: output's r-th chunk = rank r's input (output.numel() == size() * input.numel()).
  // Error(InvalidArgument) for tensors that break these rules, naming the rule.
  void reduce_scatter_sum(const torch::Tensor& input, torch::Tensor& output);
  void all_gather_flat(const torch::Tensor& input, torch::Tensor& output);

  // Every rank's values, indexed by rank; lengths may differ between ranks (at most 16 MiB per rank).
  std::vector<std::string> all_gather_bytes(const std::string& bytes);
  std::vector<std::vector<int64_t>> all_gather_int64(const std::vector<int64_t>& values);

  // Returns once every rank has called it.
  void barrier();

  // Every rank contributes a digest of its configuration (dist/digest.hpp); Error(Config) on every rank, naming
  // the ranks whose digest differs from rank 0's, when they are not all equal.
  void check_config_digest(uint64_t digest);

 private:
  struct Impl;
  Impl& impl() const;  // Error(InvalidArgument) after a move
  std::unique_ptr<Impl> impl_;
};

}  // namespace memtx::dist
