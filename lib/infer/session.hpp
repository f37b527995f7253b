// infer/session.hpp: streaming inference over one sequence (batch 1) of any length. A session holds the
// model's per-sequence state (ModelState: recurrent memories, the unfinished segment's keys and values, KV
// caches) and takes the stream piece by piece, in pieces of any size:
//   feed(x_1..x_n):   z = model(x, state, use_cache)   (eval mode, no autograd; the segment engine cuts x at
//                     the absolute positions k * segment_length, so the pieces' sizes do not matter)
//   generate:         continue_generation from the state and the last fed token's logits (generate.hpp); the
//                     new tokens become part of the stream; the repetition penalty counts every id of the stream
//                     (fed or generated), kept as a set over the vocabulary (bounded memory)
//   next-token loss:  sum over fed tokens x_i that follow an earlier token of the stream of
//                     logsumexp(z_{i-1}) - z_{i-1}[x_i]   (z_{i-1}: the logits after the previous token)
// Memory: with segments (infini layers) every state is bounded (softmax layers restart at each segment), so
// the state's size depends only on position mod segment_length; layers without segments keep growing caches
// (causal, mla) or a fixed state (ssm, linear). state_bytes() measures it.
// The session keeps a reference to the model: the model must outlive it. A session is used by one thread at
// a time, and its model by one session (or other call) at a time.
#pragma once
#include <torch/torch.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "infer/generate.hpp"
#include "model/transformer.hpp"

namespace memtx::infer {

struct FeedScore {
  double loss_sum = 0.0;  // summed next-token loss (nats) of the predicted tokens
  int64_t predicted = 0;  // how many tokens were predicted (every fed token but the stream's first)
};

class MEMTX_API Session {
 public:
  explicit Session(TransformerImpl& model);

  // Continues the stream with tokens (any number, 0 included) and returns their logits [n, vocab] (the
  // model's dtype and device). With score, adds the next-token loss of the tokens fed (see above).
  // Error(InvalidArgument) for a token outside the vocabulary (the state is then unchanged).
  torch::Tensor feed(const std::vector<int64_t>& tokens, FeedScore* score = nullptr);
  // Continues the stream with new tokens sampled from it (options as for generate(); the seed starts a fresh
  // generator at each call; max_time counts from this call's start). Every returned token is part of the
  // stream afterwards; a stop token is not.
  // Error(InvalidArgument) when nothing was fed yet (no logits to start from) or for bad options.
  GenerateResult generate(const GenerateOptions& options, const std::atomic<bool>* cancel = nullptr);
  // Back to an empty stream (a fresh state).
  void reset();

  int64_t position() const { return state_.position; }  // tokens in the stream
  // Bytes of the state's tensors: the storages they hold, each counted once (a view that keeps a larger
  // buffer alive counts that buffer).
  int64_t state_bytes() const;
  // The logits after the stream's last token ([vocab] float32, CPU); undefined when position() == 0.
  const torch::Tensor& last_logits() const { return last_; }
  const ModelState& state() const { return state_; }
  TransformerImpl& model() { return model_; }

 private:
  TransformerImpl& model_;
  ModelState state_;
  torch::Tensor last_;
  SeenTokens seen_;  // the stream's distinct ids
};

}  // namespace memtx::infer
