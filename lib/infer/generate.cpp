// infer/generate.cpp: prefill + one token per step with the model's caches (see generate.hpp).
#include "infer/generate.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "infer/eval_mode.hpp"
#include "memtx/error.hpp"

namespace memtx::infer {
namespace {

void check_options(const TransformerImpl& model, const std::vector<int64_t>& prompt, const GenerateOptions& o) {
  const int64_t vocab = model.spec().vocab_size;
  auto outside = [&](int64_t id) { return id < 0 || id >= vocab; };
  const std::string range = " outside the vocabulary [0, " + std::to_string(vocab) + ")";
  if (prompt.empty())
    throw Error(StatusCode::InvalidArgument, "generate: the prompt is empty (at least one token is needed)");
  for (int64_t id : prompt)
    if (outside(id)) throw Error(StatusCode::InvalidArgument, "generate: prompt token " + std::to_string(id) + range);
  for (int64_t id : o.stop_tokens)
    if (outside(id)) throw Error(StatusCode::InvalidArgument, "generate: stop token " + std::to_string(id) + range);
  if (o.max_new_tokens < 0)
    throw Error(StatusCode::InvalidArgument,
                "generate: max_new_tokens must be >= 0, got " + std::to_string(o.max_new_tokens));
  if (o.vocab_limit < 0 || o.vocab_limit > vocab)
    throw Error(StatusCode::InvalidArgument, "generate: vocab_limit " + std::to_string(o.vocab_limit) +
                                                 " outside [0, vocab_size = " + std::to_string(vocab) + "]");
  check_sampling_options(o.sampling);
}

// The logits of the last position of [1, T, V] as a float32 CPU row, cut to vocab_limit.
torch::Tensor last_row(const torch::Tensor& logits, int64_t vocab_limit) {
  auto row = logits[0][logits.size(1) - 1].to(torch::kCPU, torch::kFloat32);
  return vocab_limit > 0 ? row.narrow(0, 0, vocab_limit) : row;
}

}  // namespace

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::MaxTokens: return "max_new_tokens";
    case StopReason::StopToken: return "stop_token";
    case StopReason::Cancelled: return "cancelled";
  }
  return "unknown";
}

GenerateResult generate(TransformerImpl& model, const std::vector<int64_t>& prompt, const GenerateOptions& options,
                        const std::atomic<bool>* cancel) {
  check_options(model, prompt, options);
  GenerateResult result;
  if (options.max_new_tokens == 0) return result;
  EvalModeGuard eval_mode(model);
  torch::NoGradGuard no_grad;
  at::Generator generator = at::detail::createCPUGenerator(options.seed);
  auto cancelled = [&] { return cancel && cancel->load(std::memory_order_relaxed); };

  ModelState state = model.initial_state(1);
  auto ids = torch::tensor(prompt, torch::kLong).unsqueeze(0);
  if (cancelled()) {
    result.reason = StopReason::Cancelled;
    return result;
  }
  torch::Tensor row = last_row(model.forward(ids, &state, /*use_cache=*/true), options.vocab_limit);
  result.tokens.reserve(static_cast<size_t>(std::min<int64_t>(options.max_new_tokens, 4096)));
  while (true) {
    if (cancelled()) {
      result.reason = StopReason::Cancelled;
      break;
    }
    const int64_t next = sample_token(row, options.sampling, generator);
    if (std::find(options.stop_tokens.begin(), options.stop_tokens.end(), next) != options.stop_tokens.end()) {
      result.reason = StopReason::StopToken;
      result.stop_token = next;
      break;
    }
    result.tokens.push_back(next);
    if (static_cast<int64_t>(result.tokens.size()) >= options.max_new_tokens) {
      result.reason = StopReason::MaxTokens;
      break;
    }
    auto step = torch::full({1, 1}, next, torch::kLong);
    row = last_row(model.forward(step, &state, /*use_cache=*/true), options.vocab_limit);
  }
  return result;
}

}  // namespace memtx::infer
