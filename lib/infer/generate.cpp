// infer/generate.cpp: prefill + one token per step with the model's caches (see generate.hpp); the steps
// after the prefill (continue_generation) also continue sessions.
#include "infer/generate.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "infer/eval_mode.hpp"
#include "memtx/error.hpp"

namespace memtx::infer {
namespace {

void check_prompt(const TransformerImpl& model, const std::vector<int64_t>& prompt) {
  const int64_t vocab = model.spec().vocab_size;
  if (prompt.empty())
    throw Error(StatusCode::InvalidArgument, "generate: the prompt is empty (at least one token is needed)");
  for (int64_t id : prompt)
    if (id < 0 || id >= vocab)
      throw Error(StatusCode::InvalidArgument, "generate: prompt token " + std::to_string(id) +
                                                   " outside the vocabulary [0, " + std::to_string(vocab) + ")");
}

}  // namespace

void check_generate_options(const TransformerImpl& model, const GenerateOptions& o) {
  const int64_t vocab = model.spec().vocab_size;
  for (int64_t id : o.stop_tokens)
    if (id < 0 || id >= vocab)
      throw Error(StatusCode::InvalidArgument, "generate: stop token " + std::to_string(id) +
                                                   " outside the vocabulary [0, " + std::to_string(vocab) + ")");
  if (o.max_new_tokens < 0)
    throw Error(StatusCode::InvalidArgument,
                "generate: max_new_tokens must be >= 0, got " + std::to_string(o.max_new_tokens));
  if (o.vocab_limit < 0 || o.vocab_limit > vocab)
    throw Error(StatusCode::InvalidArgument, "generate: vocab_limit " + std::to_string(o.vocab_limit) +
                                                 " outside [0, vocab_size = " + std::to_string(vocab) + "]");
  if (!std::isfinite(o.max_time) || o.max_time < 0)
    throw Error(StatusCode::InvalidArgument,
                "max_time must be finite and >= 0 seconds (0 = no limit), got " + std::to_string(o.max_time));
  check_sampling_options(o.sampling);
}

torch::Tensor last_logits_row(const torch::Tensor& logits) {
  return logits[0][logits.size(1) - 1].to(torch::kCPU, torch::kFloat32);
}

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::MaxTokens: return "max_new_tokens";
    case StopReason::StopToken: return "stop_token";
    case StopReason::Cancelled: return "cancelled";
    case StopReason::Callback: return "callback";
    case StopReason::MaxTime: return "max_time";
  }
  return "unknown";
}

GenerateResult continue_generation(TransformerImpl& model, ModelState& state, torch::Tensor& row,
                                   const GenerateOptions& options, const std::atomic<bool>* cancel, bool feed_last,
                                   SeenTokens& seen, std::chrono::steady_clock::time_point start) {
  GenerateResult result;
  if (options.max_new_tokens == 0) return result;
  at::Generator generator = at::detail::createCPUGenerator(options.seed);
  auto cancelled = [&] { return cancel && cancel->load(std::memory_order_relaxed); };
  auto out_of_time = [&] {
    return options.max_time > 0 &&
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >= options.max_time;
  };
  result.tokens.reserve(static_cast<size_t>(std::min<int64_t>(options.max_new_tokens, 4096)));
  while (true) {
    if (cancelled()) {
      result.reason = StopReason::Cancelled;
      break;
    }
    const torch::Tensor candidates = options.vocab_limit > 0 ? row.narrow(0, 0, options.vocab_limit) : row;
    const int64_t next = sample_token(candidates, options.sampling, generator, &seen);
    if (std::find(options.stop_tokens.begin(), options.stop_tokens.end(), next) != options.stop_tokens.end()) {
      result.reason = StopReason::StopToken;
      result.stop_token = next;
      break;
    }
    result.tokens.push_back(next);
    seen.add(next);
    // Every kept token reaches on_token; then the first reason to stop that holds wins.
    const bool stop_asked = options.on_token && options.on_token(next);
    std::optional<StopReason> stop;
    if (stop_asked) stop = StopReason::Callback;
    else if (static_cast<int64_t>(result.tokens.size()) >= options.max_new_tokens) stop = StopReason::MaxTokens;
    else if (out_of_time()) stop = StopReason::MaxTime;
    const bool done = stop.has_value();
    if (done) result.reason = *stop;
    if (!done || feed_last) {
      auto step = torch::full({1, 1}, next, torch::kLong);
      row = last_logits_row(model.forward(step, &state, /*use_cache=*/true));
    }
    if (done) break;
  }
  return result;
}

GenerateResult generate(TransformerImpl& model, const std::vector<int64_t>& prompt, const GenerateOptions& options,
                        const std::atomic<bool>* cancel) {
  const auto start = std::chrono::steady_clock::now();
  check_prompt(model, prompt);
  check_generate_options(model, options);
  GenerateResult result;
  if (options.max_new_tokens == 0) return result;
  EvalModeGuard eval_mode(model);
  torch::NoGradGuard no_grad;
  if (cancel && cancel->load(std::memory_order_relaxed)) {
    result.reason = StopReason::Cancelled;
    return result;
  }
  ModelState state = model.initial_state(1);
  auto ids = torch::tensor(prompt, torch::kLong).unsqueeze(0);
  torch::Tensor row = last_logits_row(model.forward(ids, &state, /*use_cache=*/true));
  SeenTokens seen(model.spec().vocab_size);
  seen.add(prompt);
  return continue_generation(model, state, row, options, cancel, /*feed_last=*/false, seen, start);
}

}  // namespace memtx::infer
