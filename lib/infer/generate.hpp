// infer/generate.hpp: autoregressive generation with the model's caches (KV caches, latent caches,
// recurrent states, all held in a ModelState).
//   prefill:  z = model(prompt, state, use_cache)            one forward over the whole prompt
//   step n:   t_n = sample(z[last], seen)   (sampling.hpp, a CPU generator seeded with options.seed; seen: the
//             prompt's ids and those made so far, for the repetition penalty)
//             stop before t_n is kept when it is a stop token; after it is kept (and given to on_token): stop when
//             on_token asks to, when max_new_tokens tokens were made, or when max_time seconds have passed since
//             the call began; stop before sampling when *cancel is set; otherwise z = model([t_n], state, use_cache)
// The model runs in eval mode without autograd and gets its training mode back afterwards. The global
// torch RNG is neither used nor changed, so the same seed always gives the same tokens. The steps after the
// prefill are continue_generation, which sessions (session.hpp) also use to continue their stream.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "infer/sampling.hpp"
#include "model/transformer.hpp"

namespace memtx::infer {

enum class StopReason { MaxTokens, StopToken, Cancelled, Callback, MaxTime };
// "max_new_tokens", "stop_token", "cancelled", "callback", "max_time"
MEMTX_API const char* stop_reason_name(StopReason reason);

struct GenerateOptions {
  int64_t max_new_tokens = 64;
  SamplingOptions sampling;
  uint64_t seed = 0;
  std::vector<int64_t> stop_tokens;  // ids that end generation (not returned); put eos here
  int64_t vocab_limit = 0;           // > 0: only ids below it are drawn (what a tokenizer can decode)
  double max_time = 0;               // seconds of wall clock for the call; 0 = no limit
  // Called with each kept token, in order (never with a stop token); returning true stops after that token.
  std::function<bool(int64_t)> on_token;
};

struct GenerateResult {
  std::vector<int64_t> tokens;       // the new tokens: no prompt, no stop token
  StopReason reason = StopReason::MaxTokens;
  std::optional<int64_t> stop_token; // the stop token met (reason StopToken)
};

// One sequence (batch 1). Error(InvalidArgument) for an empty prompt, max_new_tokens < 0, bad sampling
// options, a prompt or stop token outside the vocabulary, or vocab_limit outside [0, vocab_size].
MEMTX_API GenerateResult generate(TransformerImpl& model, const std::vector<int64_t>& prompt,
                                  const GenerateOptions& options, const std::atomic<bool>* cancel = nullptr);

// The checks of generate() that do not concern the prompt (stop tokens, max_new_tokens, vocab_limit, max_time
// finite and >= 0, sampling).
MEMTX_API void check_generate_options(const TransformerImpl& model, const GenerateOptions& options);

// The steps after the prefill: continues the sequence that `state` holds (batch 1), whose last token's logits
// are `row` ([vocab] float32 on the CPU, the whole vocabulary; vocab_limit is applied when sampling). With
// feed_last, every kept token, the last one too, is run through the model: on return `state` holds the
// sequence plus the new tokens and `row` the logits after the last of them (a session's case). Without, the
// last new token is only sampled (plain generation saves that step). A stop token is never fed. The caller
// checked the options (check_generate_options) and holds the eval-mode and no-grad guards. seen holds the
// sequence's distinct ids (the repetition penalty's set); each kept token is added to it. max_time counts from
// start.
MEMTX_API GenerateResult continue_generation(TransformerImpl& model, ModelState& state, torch::Tensor& row,
                                             const GenerateOptions& options, const std::atomic<bool>* cancel,
                                             bool feed_last, SeenTokens& seen,
                                             std::chrono::steady_clock::time_point start);

// The logits of the last position of [1, T, V] as a float32 CPU row [V].
MEMTX_API torch::Tensor last_logits_row(const torch::Tensor& logits);

}  // namespace memtx::infer
