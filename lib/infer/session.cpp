// infer/session.cpp: a streaming session over one sequence (see session.hpp).
#include "infer/session.hpp"

#include <set>
#include <string>

#include "infer/eval_mode.hpp"
#include "memtx/error.hpp"

namespace memtx::infer {

Session::Session(TransformerImpl& model)
    : model_(model), state_(model.initial_state(1)), seen_(model.spec().vocab_size) {}

torch::Tensor Session::feed(const std::vector<int64_t>& tokens, FeedScore* score) {
  const int64_t vocab = model_.spec().vocab_size;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= vocab)
      throw Error(StatusCode::InvalidArgument, "session: token " + std::to_string(tokens[i]) + " (index " +
                                                   std::to_string(i) + " of the piece) outside the vocabulary [0, " +
                                                   std::to_string(vocab) + ")");
  }
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0)
    return torch::empty({0, vocab}, torch::TensorOptions().dtype(model_.spec().dtype).device(model_.device()));
  EvalModeGuard eval_mode(model_);
  torch::NoGradGuard no_grad;
  auto ids = torch::tensor(tokens, torch::kLong);
  torch::Tensor logits = model_.forward(ids.unsqueeze(0), &state_, /*use_cache=*/true)[0];  // [n, vocab]
  if (score) {
    // Row i - 1 predicts token i; the stream's previous last row predicts the piece's first token.
    auto rows = logits.to(torch::kFloat64);
    torch::Tensor predictors = rows.narrow(0, 0, n - 1), targets = ids.narrow(0, 1, n - 1);
    if (last_.defined()) {
      predictors = torch::cat({last_.to(rows.options()).unsqueeze(0), predictors}, 0);
      targets = ids;
    }
    if (predictors.size(0) > 0) {
      targets = targets.to(rows.device()).unsqueeze(1);
      auto nll = torch::logsumexp(predictors, 1) - predictors.gather(1, targets).squeeze(1);
      score->loss_sum += nll.sum().item<double>();
      score->predicted += predictors.size(0);
    }
  }
  last_ = logits[n - 1].to(torch::kCPU, torch::kFloat32);
  seen_.add(tokens);
  return logits;
}

GenerateResult Session::generate(const GenerateOptions& options, const std::atomic<bool>* cancel) {
  const auto start = std::chrono::steady_clock::now();
  check_generate_options(model_, options);
  if (!last_.defined())
    throw Error(StatusCode::InvalidArgument,
                "session generate: the stream is empty (feed at least one token to continue from)");
  EvalModeGuard eval_mode(model_);
  torch::NoGradGuard no_grad;
  return continue_generation(model_, state_, last_, options, cancel, /*feed_last=*/true, seen_, start);
}

void Session::reset() {
  state_ = model_.initial_state(1);
  last_ = torch::Tensor();
  seen_.clear();
}

int64_t Session::state_bytes() const {
  std::set<const c10::StorageImpl*> seen;
  int64_t total = 0;
  for (const auto& layer : state_.layers) {
    for (const auto& entry : layer) {
      const torch::Tensor& t = entry.second;
      if (!t.defined() || !t.has_storage()) continue;
      const c10::StorageImpl* storage = t.storage().unsafeGetStorageImpl();
      if (seen.insert(storage).second) total += static_cast<int64_t>(storage->nbytes());
    }
  }
  return total;
}

}  // namespace memtx::infer
