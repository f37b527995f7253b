// capi/infer.cpp: generation (token ids and text) and evaluation calls of the C API. Each clears the
// model's cancel flag when it starts; memtx_cancel then stops it early.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "capi/generate_options.hpp"
#include "capi/handles.hpp"
#include "infer/evaluate.hpp"
#include "infer/generate.hpp"

using namespace memtx::capi;
using memtx::Error;
using memtx::StatusCode;

namespace memtx::capi {

memtx::infer::GenerateOptions generate_options(memtx_model& model, const memtx_generate_options* in,
                                               const std::string& fn) {
  const memtx_generate_options o = in ? *in : memtx_generate_default_options();
  if (o.n_stop_tokens > 0 && !o.stop_tokens)
    throw Error(StatusCode::InvalidArgument, fn + ": options->stop_tokens is NULL but n_stop_tokens is " +
                                                 std::to_string(o.n_stop_tokens));
  memtx::infer::GenerateOptions g;
  g.max_new_tokens = o.max_new_tokens;
  g.sampling.temperature = o.temperature;
  g.sampling.top_k = o.top_k;
  g.sampling.top_p = o.top_p;
  g.seed = o.seed;
  g.stop_tokens.assign(o.stop_tokens, o.stop_tokens + o.n_stop_tokens);
  try {
    memtx::infer::check_sampling_options(g.sampling);
  } catch (const Error& e) {
    throw Error(e.code(), fn + ": options->" + e.what());
  }
  if (o.stop_at_eos) {
    try {
      if (auto eos = model_tokenizer(model).eos_id()) g.stop_tokens.push_back(*eos);
    } catch (const Error& e) {
      throw Error(e.code(), fn + ": stop_at_eos needs the tokenizer's end-of-sequence id (set stop_at_eos = 0 to "
                                 "generate without a tokenizer): " + e.what());
    }
  }
  return g;
}

}  // namespace memtx::capi

namespace {

Error cancelled(const std::string& fn, size_t made) {
  return Error(StatusCode::Cancelled, fn + ": cancelled by memtx_cancel after " + std::to_string(made) + " new tokens");
}

// The continuation of prompt as text (memtx_generate_text); fn names the calling function in messages.
std::string generate_text(memtx_model& model, const std::string& prompt, const memtx_generate_options* options,
                          const char* fn) {
  model.cancel_requested.store(false);
  const memtx::data::Tokenizer& tokenizer = model_tokenizer(model);
  memtx::infer::GenerateOptions g = generate_options(model, options, fn);
  g.vocab_limit = tokenizer.vocab_size();  // only ids the tokenizer can turn back into text
  std::vector<int64_t> ids = tokenizer.encode(prompt);
  if (ids.empty()) {
    // An empty prompt starts a new document: the tokenizer's beginning-of-sequence (or end) token.
    auto start = tokenizer.bos_id() ? tokenizer.bos_id() : tokenizer.eos_id();
    if (!start)
      throw Error(StatusCode::InvalidArgument,
                  std::string(fn) + ": the prompt is empty and the tokenizer has no bos or eos token to start from");
    ids.push_back(*start);
  }
  const auto result = memtx::infer::generate(*model.model, ids, g, &model.cancel_requested);
  if (result.reason == memtx::infer::StopReason::Cancelled) throw cancelled(fn, result.tokens.size());
  return tokenizer.decode(result.tokens);
}

}  // namespace

extern "C" {

memtx_generate_options memtx_generate_default_options(void) {
  memtx_generate_options o;
  o.max_new_tokens = 64;
  o.temperature = 1.0f;
  o.top_k = 0;
  o.top_p = 1.0f;
  o.seed = 0;
  o.stop_tokens = nullptr;
  o.n_stop_tokens = 0;
  o.stop_at_eos = 1;
  return o;
}

memtx_status* memtx_generate(memtx_model* model, const int64_t* prompt, size_t prompt_len,
                             const memtx_generate_options* options, int64_t* out_tokens, size_t capacity,
                             size_t* out_count) {
  return guarded("memtx_generate", [&] {
    require(model, "memtx_generate", "model");
    const auto pass = use_model(*model, "memtx_generate");
    require(prompt, "memtx_generate", "prompt");
    require(out_count, "memtx_generate", "out_count");
    if (capacity > 0) require(out_tokens, "memtx_generate", "out_tokens");
    *out_count = 0;
    model->cancel_requested.store(false);
    if (prompt_len < 1) throw Error(StatusCode::InvalidArgument, "memtx_generate: prompt_len must be >= 1, got 0");
    memtx::infer::GenerateOptions g = generate_options(*model, options, "memtx_generate");
    if (g.max_new_tokens < 0)
      throw Error(StatusCode::InvalidArgument,
                  "memtx_generate: options->max_new_tokens must be >= 0, got " + std::to_string(g.max_new_tokens));
    g.max_new_tokens = std::min<int64_t>(g.max_new_tokens, static_cast<int64_t>(std::min<size_t>(capacity, INT64_MAX)));
    const auto result = memtx::infer::generate(*model->model, std::vector<int64_t>(prompt, prompt + prompt_len), g,
                                               &model->cancel_requested);
    if (!result.tokens.empty()) std::memcpy(out_tokens, result.tokens.data(), result.tokens.size() * sizeof(int64_t));
    *out_count = result.tokens.size();
    if (result.reason == memtx::infer::StopReason::Cancelled) throw cancelled("memtx_generate", result.tokens.size());
  });
}

memtx_status* memtx_generate_text(memtx_model* model, const char* prompt, const memtx_generate_options* options,
                                  char** out_text) {
  return guarded("memtx_generate_text", [&] {
    if (out_text) *out_text = nullptr;  // NULL unless the call succeeds
    require(model, "memtx_generate_text", "model");
    const auto pass = use_model(*model, "memtx_generate_text");
    require(prompt, "memtx_generate_text", "prompt");
    require(out_text, "memtx_generate_text", "out_text");
    *out_text = copy_string(generate_text(*model, prompt, options, "memtx_generate_text"));
  });
}

memtx_status* memtx_generate_text_n(memtx_model* model, const char* prompt, size_t prompt_len,
                                    const memtx_generate_options* options, char** out_text, size_t* out_len) {
  return guarded("memtx_generate_text_n", [&] {
    const char* fn = "memtx_generate_text_n";
    if (out_text) *out_text = nullptr;  // NULL unless the call succeeds
    if (out_len) *out_len = 0;
    require(model, fn, "model");
    const auto pass = use_model(*model, fn);
    require(out_text, fn, "out_text");
    return_text(generate_text(*model, text_arg(prompt, prompt_len, fn, "prompt"), options, fn), out_text, out_len);
  });
}

memtx_status* memtx_evaluate(memtx_model* model, const memtx_config* cfg, char** out_json) {
  return guarded("memtx_evaluate", [&] {
    if (out_json) *out_json = nullptr;  // NULL unless the call succeeds
    require(model, "memtx_evaluate", "model");
    require(out_json, "memtx_evaluate", "out_json");
    const auto pass = use_model(*model, "memtx_evaluate");
    model->cancel_requested.store(false);
    const memtx::Config config = cfg ? cfg->snapshot() : model->model->config();
    const auto result =
        memtx::infer::evaluate_config(*model->model, config, model_tokenizer(*model), &model->cancel_requested);
    if (result.cancelled)
      throw Error(StatusCode::Cancelled, "memtx_evaluate: cancelled by memtx_cancel after " +
                                             std::to_string(result.batches) + " batches");
    if (!std::isfinite(result.loss))  // JSON has no NaN: a result readers would choke on is an error instead
      throw Error(StatusCode::Torch, "memtx_evaluate: the mean loss over " + std::to_string(result.tokens) +
                                         " tokens is " + std::to_string(result.loss) +
                                         ": the model's logits are not finite (do its weights hold NaN or Inf?)");
    // A perplexity beyond the double range (a loss above ~709 nats) is written as null.
    nlohmann::json j = {{"split", result.split},         {"loss", result.loss},
                        {"perplexity", result.perplexity}, {"accuracy", result.accuracy},
                        {"sequence_accuracy", result.sequence_accuracy},
                        {"scored_sequences", result.scored_sequences},
                        {"tokens", result.tokens},
                        {"sequences", result.sequences},   {"batches", result.batches},
                        {"seconds", result.seconds}};
    *out_json = copy_string(json_text(j));
  });
}

}  // extern "C"
