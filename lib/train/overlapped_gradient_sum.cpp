// train/overlapped_gradient_sum.cpp: bucketed gradient sums started from post-accumulate-grad hooks (see the
// header for the protocol).
#include "train/overlapped_gradient_sum.hpp"

#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <algorithm>

#include "dist/buckets.hpp"
#include "memtx/error.hpp"

namespace memtx::train {
namespace {

// LibTorch's slot for what runs after AccumulateGrad has written a leaf's .grad (one per tensor).
class ReadyHook : public torch::autograd::PostAccumulateGradHook {
 public:
  ReadyHook(OverlappedGradientSum& owner, size_t param) : owner_(owner), param_(param) {}
  void operator()(const torch::autograd::Variable& /*tensor*/) override { owner_.on_gradient_ready(param_); }

 private:
  OverlappedGradientSum& owner_;
  size_t param_;
};

}  // namespace

int64_t overlap_bucket_bytes(int64_t total_bytes) {
  return std::clamp<int64_t>(total_bytes / 4, int64_t{64} << 10, int64_t{25} << 20);
}

OverlappedGradientSum::OverlappedGradientSum(const std::vector<std::pair<std::string, torch::Tensor>>& params,
                                             dist::ProcessGroup& group, int64_t bucket_cap_bytes)
    : params_(params), group_(group), bucket_of_(params.size()), ready_(params.size(), false) {
  // Plan over the parameters in reverse order: the first bucket holds the gradients backward produces first.
  std::vector<torch::Tensor> reversed;
  for (auto it = params_.rbegin(); it != params_.rend(); ++it) reversed.push_back(it->second);
  for (const dist::Bucket& b : dist::plan_buckets(reversed, bucket_cap_bytes)) {
    BucketState state;
    for (size_t member : b.members) state.members.push_back(params_.size() - 1 - member);
    buckets_.push_back(std::move(state));
  }
  for (size_t b = 0; b < buckets_.size(); ++b)
    for (size_t p : buckets_[b].members) bucket_of_[p] = b;
  for (size_t i = 0; i < params_.size(); ++i)
    torch::autograd::impl::set_post_acc_grad_hooks(params_[i].second, std::make_unique<ReadyHook>(*this, i));
}

OverlappedGradientSum::~OverlappedGradientSum() {
  for (auto& [name, p] : params_) torch::autograd::impl::post_acc_grad_hooks(p).reset();
}

void OverlappedGradientSum::arm() {
  reset();
  armed_ = true;
  prepared_ = true;
}

void OverlappedGradientSum::reset() {
  next_ = 0;
  failure_ = nullptr;
  started_in_backward_ = 0;
  std::fill(ready_.begin(), ready_.end(), false);
  for (BucketState& b : buckets_) {
    b.waiting = b.members.size();
    b.started = false;
    b.flat = torch::Tensor();
  }
}

void OverlappedGradientSum::on_gradient_ready(size_t param) {
  if (!armed_ || failure_) return;
  try {
    BucketState& bucket = buckets_[bucket_of_[param]];
    if (ready_[param] || bucket.started)
      throw Error(StatusCode::Internal, "the gradient of '" + params_[param].first +
                                            "' was accumulated twice in one backward pass (a nested backward pass), "
                                            "after its sum over the ranks had started");
    ready_[param] = true;
    --bucket.waiting;
    start_ready_buckets();
  } catch (...) {
    failure_ = std::current_exception();
  }
}

void OverlappedGradientSum::start_ready_buckets() {
  while (next_ < buckets_.size() && buckets_[next_].waiting == 0) {
    start(buckets_[next_]);
    ++started_in_backward_;
    ++started_in_backward_total_;
  }
}

void OverlappedGradientSum::start(BucketState& bucket) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (size_t p : bucket.members) {
    torch::Tensor& g = params_[p].second.mutable_grad();
    if (!g.defined()) g = torch::zeros_like(params_[p].second);
    grads.push_back(g);
  }
  for (torch::Tensor& g : grads) g = g.reshape({-1});
  bucket.flat = torch::cat(grads);  // always a copy: the gradients may not change while the sum runs
  group_.start_all_reduce_sum(bucket.flat);
  bucket.started = true;
  ++next_;
}

void OverlappedGradientSum::finish() {
  if (!prepared_) reset();  // not armed this step: every bucket starts here
  armed_ = prepared_ = false;
  if (failure_) {
    try {
      group_.wait_started();
    } catch (...) {
    }
    std::rethrow_exception(failure_);
  }
  while (next_ < buckets_.size()) start(buckets_[next_]);
  group_.wait_started();
  torch::NoGradGuard no_grad;
  for (BucketState& bucket : buckets_) {
    int64_t offset = 0;
    for (size_t p : bucket.members) {
      torch::Tensor& g = params_[p].second.mutable_grad();
      g.copy_(bucket.flat.narrow(0, offset, g.numel()).view_as(g));
      offset += g.numel();
    }
    bucket.flat = torch::Tensor();
  }
}

}  // namespace memtx::train
