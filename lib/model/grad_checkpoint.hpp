// model/grad_checkpoint.hpp: activation (gradient) checkpointing of one function of one tensor.
// Forward runs fn(x) without recording a graph and keeps only x. Backward re-runs fn on a detached copy of x
// with the graph recorded, with the CPU (and CUDA) random state of the first run restored so dropout draws the
// same masks, and back-propagates the incoming gradient through it: parameter gradients accumulate as usual
// and the gradient of x flows on. Memory: one block input per block instead of every intermediate activation,
// for one more forward pass per block.
// fn must be a function of x and of parameters only (no state written elsewhere), and it must outlive the
// backward pass (it is called there by reference): the model keeps one per block for its whole life.
// The stateful form is for a block run on one segment of a sequence with its carried state: inputs are x and
// the state's tensors as the segment found them, outputs the block's output and the state's tensors as the
// segment leaves them; forward keeps only the inputs, backward re-runs the body (same random state and
// autocast) and back-propagates the gradients that reached every output, so the gradient flowing through the
// carried state from later segments is included. `call` is handed to the body unchanged in both runs.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "memtx/export.h"

namespace memtx {

MEMTX_API torch::Tensor checkpointed(const std::function<torch::Tensor(const torch::Tensor&)>& fn,
                                     const torch::Tensor& x);

struct SegmentCall {
  int64_t start_position = 0;            // the sequence position of the segment's first token
  bool use_cache = false;
  std::vector<std::string> state_names;  // the names of inputs[1..] (names without '\n')
};
// Returns y and the state's tensors after the segment, naming the latter in *output_names.
using StatefulBody = std::function<std::vector<torch::Tensor>(
    const std::vector<torch::Tensor>& inputs, const SegmentCall& call, std::vector<std::string>* output_names)>;
MEMTX_API std::vector<torch::Tensor> checkpointed(const StatefulBody& fn, const std::vector<torch::Tensor>& inputs,
                                                  const SegmentCall& call, std::vector<std::string>* output_names);

}  // namespace memtx
