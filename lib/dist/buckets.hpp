// dist/buckets.hpp: how ProcessGroup's bucketed collectives group a list of tensors. Tensors of one dtype and
// device go, in list order, into flat buckets of at most cap_bytes (a tensor larger than the cap gets a bucket of
// its own); each bucket is one collective over one contiguous buffer. The plan depends only on the tensors'
// dtypes, devices and sizes, so every rank that passes the same list makes the same plan.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "memtx/export.h"

namespace memtx::dist {

struct Bucket {
  std::vector<size_t> members;  // indices into the tensor list, in list order
  int64_t numel = 0;            // elements of all members together
};

// Buckets in the order their first member appears. Error(InvalidArgument) for an undefined or non-strided
// (sparse, mkldnn...) tensor, or one whose elements share memory (an expanded view), naming its index, or
// cap_bytes < 1. Like the copies below, only memtx::Error leaves it (dist/guard.hpp).
MEMTX_API std::vector<Bucket> plan_buckets(const std::vector<torch::Tensor>& tensors, int64_t cap_bytes);

// The bucket's members as one contiguous 1-d tensor (a copy; the member itself when it is alone and contiguous).
MEMTX_API torch::Tensor flatten_bucket(const std::vector<torch::Tensor>& tensors, const Bucket& bucket);

// Writes flat back into the members (nothing to do when flat is the lone member itself).
MEMTX_API void unflatten_bucket(const torch::Tensor& flat, const std::vector<torch::Tensor>& tensors,
                                const Bucket& bucket);

}  // namespace memtx::dist
