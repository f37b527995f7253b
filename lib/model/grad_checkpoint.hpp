// model/grad_checkpoint.hpp: activation (gradient) checkpointing of one function of one tensor.
// Forward runs fn(x) without recording a graph and keeps only x. Backward re-runs fn on a detached copy of x
// with the graph recorded, with the CPU (and CUDA) random state of the first run restored so dropout draws the
// same masks, and back-propagates the incoming gradient through it: parameter gradients accumulate as usual
// and the gradient of x flows on. Memory: one block input per block instead of every intermediate activation,
// for one more forward pass per block.
// fn must be a function of x and of parameters only (no state written elsewhere), and it must outlive the
// backward pass (it is called there by reference): the model keeps one per block for its whole life and uses
// it for blocks that carry no per-sequence state.
#pragma once
#include <torch/torch.h>

#include <functional>

#include "memtx/export.h"

namespace memtx {

MEMTX_API torch::Tensor checkpointed(const std::function<torch::Tensor(const torch::Tensor&)>& fn,
                                     const torch::Tensor& x);

}  // namespace memtx
