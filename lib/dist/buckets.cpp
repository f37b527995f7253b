// dist/buckets.cpp: the bucket plan and the copies into and out of a bucket's flat buffer (see buckets.hpp).
#include "dist/buckets.hpp"

#include <ATen/MemoryOverlap.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "dist/guard.hpp"
#include "memtx/error.hpp"

namespace memtx::dist {

namespace {

std::vector<Bucket> plan(const std::vector<torch::Tensor>& tensors, int64_t cap_bytes) {
  if (cap_bytes < 1)
    throw Error(StatusCode::InvalidArgument, "bucket size " + std::to_string(cap_bytes) + " bytes: expected >= 1");
  // The open bucket of each (dtype, device), with its size in bytes; the index orders them by first member.
  struct Open {
    size_t first;
    Bucket bucket;
    int64_t bytes;
  };
  std::map<std::pair<int, std::string>, Open> open;
  std::vector<std::pair<size_t, Bucket>> finished;  // (first member, bucket)
  for (size_t i = 0; i < tensors.size(); ++i) {
    const torch::Tensor& t = tensors[i];
    if (!t.defined())
      throw Error(StatusCode::InvalidArgument, "tensor " + std::to_string(i) + " of the list is undefined");
    if (t.layout() != torch::kStrided)
      throw Error(StatusCode::InvalidArgument, "tensor " + std::to_string(i) + " of the list is not a dense tensor");
    if (at::has_internal_overlap(t) == at::MemOverlap::Yes)
      throw Error(StatusCode::InvalidArgument, "tensor " + std::to_string(i) +
                                                   " of the list has elements that share memory (an expanded view); "
                                                   "pass a tensor that owns each of its elements");
    const int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
    const auto key = std::make_pair(static_cast<int>(t.scalar_type()), t.device().str());
    auto it = open.find(key);
    if (it != open.end() && it->second.bytes + bytes > cap_bytes) {
      finished.emplace_back(it->second.first, std::move(it->second.bucket));
      open.erase(it);
      it = open.end();
    }
    if (it == open.end()) it = open.emplace(key, Open{i, Bucket{}, 0}).first;
    it->second.bucket.members.push_back(i);
    it->second.bucket.numel += t.numel();
    it->second.bytes += bytes;
  }
  for (auto& [key, o] : open) finished.emplace_back(o.first, std::move(o.bucket));
  std::sort(finished.begin(), finished.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Bucket> done;
  done.reserve(finished.size());
  for (auto& f : finished) done.push_back(std::move(f.second));
  return done;
}

torch::Tensor flatten(const std::vector<torch::Tensor>& tensors, const Bucket& bucket) {
  torch::NoGradGuard no_grad;
  if (bucket.members.size() == 1) {
    const torch::Tensor& t = tensors.at(bucket.members[0]);
    if (t.is_contiguous()) return t.view({-1});
  }
  const torch::Tensor& first = tensors.at(bucket.members.at(0));
  torch::Tensor flat = torch::empty({bucket.numel}, first.options().requires_grad(false));
  int64_t offset = 0;
  for (size_t i : bucket.members) {
    const torch::Tensor& t = tensors.at(i);
    flat.narrow(0, offset, t.numel()).view(t.sizes()).copy_(t);
    offset += t.numel();
  }
  return flat;
}

void unflatten(const torch::Tensor& flat, const std::vector<torch::Tensor>& tensors, const Bucket& bucket) {
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (size_t i : bucket.members) {
    const torch::Tensor& t = tensors.at(i);
    torch::Tensor part = flat.narrow(0, offset, t.numel());
    if (part.data_ptr() != t.data_ptr()) t.copy_(part.view(t.sizes()));
    offset += t.numel();
  }
}

}  // namespace

std::vector<Bucket> plan_buckets(const std::vector<torch::Tensor>& tensors, int64_t cap_bytes) {
  return detail::guarded("bucket plan", [&] { return plan(tensors, cap_bytes); });
}

torch::Tensor flatten_bucket(const std::vector<torch::Tensor>& tensors, const Bucket& bucket) {
  return detail::guarded("bucket copy", [&] { return flatten(tensors, bucket); });
}

void unflatten_bucket(const torch::Tensor& flat, const std::vector<torch::Tensor>& tensors, const Bucket& bucket) {
  detail::guarded("bucket copy", [&] { unflatten(flat, tensors, bucket); });
}

}  // namespace memtx::dist
