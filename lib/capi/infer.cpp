// capi/infer.cpp: generation (token ids and text) and evaluation calls of the C API. Each clears the
// model's cancel flag when it starts; memtx_cancel then stops it early.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <nlohmann/json.hpp>

#include "capi/generate_options.hpp"
#include "capi/handles.hpp"
#include "infer/evaluate.hpp"
#include "infer/generate.hpp"

using namespace memtx::capi;
using memtx::Error;
using memtx::StatusCode;

namespace memtx::capi {

memtx_generate_options read_generate_options(const memtx_generate_options* in, const std::string& fn) {
  if (!in) return memtx_generate_default_options();
  if (in->struct_size != sizeof(memtx_generate_options))
    throw Error(StatusCode::InvalidArgument,
                fn + ": options->struct_size is " + std::to_string(in->struct_size) + ", this library's " +
                    "memtx_generate_options has " + std::to_string(sizeof(memtx_generate_options)) +
                    " bytes (ABI " + std::to_string(MEMTX_ABI_VERSION) +
                    "): start from memtx_generate_default_options() and build against the library's memtx.h");
  return *in;
}

memtx::infer::GenerateOptions generate_options(memtx_model& model, const memtx_generate_options& o,
                                               const std::string& fn) {
  if (o.n_stop_tokens > 0 && !o.stop_tokens)
    throw Error(StatusCode::InvalidArgument, fn + ": options->stop_tokens is NULL but n_stop_tokens is " +
                                                 std::to_string(o.n_stop_tokens));
  if (!std::isfinite(o.max_time) || o.max_time < 0)
    throw Error(StatusCode::InvalidArgument, fn + ": options->max_time must be finite and >= 0 seconds (0 = no "
                                                  "limit), got " + std::to_string(o.max_time));
  memtx::infer::GenerateOptions g;
  g.max_new_tokens = o.max_new_tokens;
  g.sampling.temperature = o.temperature;
  g.sampling.top_k = o.top_k;
  g.sampling.top_p = o.top_p;
  g.sampling.min_p = o.min_p;
  g.sampling.repetition_penalty = o.repetition_penalty;
  g.max_time = o.max_time;
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

GenerateStream::GenerateStream(const memtx_generate_options& o, const memtx::data::Tokenizer* tokenizer)
    : options_(o) {
  if (o.on_token && tokenizer) text_.emplace(*tokenizer);
}

void GenerateStream::attach(memtx::infer::GenerateOptions& g) {
  if (!options_.on_token) return;
  g.on_token = [this](int64_t token) {
    std::optional<std::string> piece;
    if (text_) piece = text_->push(token);
    const char* data = piece ? piece->data() : nullptr;
    return options_.on_token(options_.on_token_user_data, token, data, piece ? piece->size() : 0) != 0;
  };
}

void GenerateStream::finish(const memtx::infer::GenerateResult& result) {
  if (options_.on_token && text_) {
    const std::string rest = text_->finish();
    if (!rest.empty()) options_.on_token(options_.on_token_user_data, -1, rest.data(), rest.size());
  }
  if (!options_.out_stop_reason) return;
  using memtx::infer::StopReason;
  switch (result.reason) {
    case StopReason::MaxTokens: *options_.out_stop_reason = MEMTX_STOP_MAX_TOKENS; break;
    case StopReason::StopToken: *options_.out_stop_reason = MEMTX_STOP_TOKEN; break;
    case StopReason::Cancelled: *options_.out_stop_reason = MEMTX_STOP_CANCELLED; break;
    case StopReason::Callback: *options_.out_stop_reason = MEMTX_STOP_CALLBACK; break;
    case StopReason::MaxTime: *options_.out_stop_reason = MEMTX_STOP_MAX_TIME; break;
  }
}

// The tokenizer for an id call's text pieces: none without on_token, or when it cannot be loaded.
const memtx::data::Tokenizer* stream_tokenizer(memtx_model& model, const memtx_generate_options& o) {
  if (!o.on_token) return nullptr;
  try {
    return &model_tokenizer(model);
  } catch (const Error&) {
    return nullptr;
  }
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
  const memtx_generate_options o = read_generate_options(options, fn);
  memtx::infer::GenerateOptions g = generate_options(model, o, fn);
  g.vocab_limit = tokenizer.vocab_size();  // only ids the tokenizer can turn back into text
  GenerateStream stream(o, &tokenizer);
  stream.attach(g);
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
  stream.finish(result);
  if (result.reason == memtx::infer::StopReason::Cancelled) throw cancelled(fn, result.tokens.size());
  return tokenizer.decode(result.tokens);
}

}  // namespace

extern "C" {

memtx_generate_options memtx_generate_default_options(void) {
  memtx_generate_options o;
  std::memset(&o, 0, sizeof o);  // padding too: the struct is compared and copied as bytes by some callers
  o.struct_size = sizeof(memtx_generate_options);
  o.max_new_tokens = 64;
  o.temperature = 1.0f;
  o.top_k = 0;
  o.top_p = 1.0f;
  o.seed = 0;
  o.stop_tokens = nullptr;
  o.n_stop_tokens = 0;
  o.stop_at_eos = 1;
  o.repetition_penalty = 1.0f;
  o.min_p = 0.0f;
  o.max_time = 0.0;
  o.on_token = nullptr;
  o.on_token_user_data = nullptr;
  o.out_stop_reason = nullptr;
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
    const memtx_generate_options o = read_generate_options(options, "memtx_generate");
    memtx::infer::GenerateOptions g = generate_options(*model, o, "memtx_generate");
    GenerateStream stream(o, stream_tokenizer(*model, o));
    stream.attach(g);
    if (g.max_new_tokens < 0)
      throw Error(StatusCode::InvalidArgument,
                  "memtx_generate: options->max_new_tokens must be >= 0, got " + std::to_string(g.max_new_tokens));
    g.max_new_tokens = std::min<int64_t>(g.max_new_tokens, static_cast<int64_t>(std::min<size_t>(capacity, INT64_MAX)));
    const auto result = memtx::infer::generate(*model->model, std::vector<int64_t>(prompt, prompt + prompt_len), g,
                                               &model->cancel_requested);
    if (!result.tokens.empty()) std::memcpy(out_tokens, result.tokens.data(), result.tokens.size() * sizeof(int64_t));
    *out_count = result.tokens.size();
    stream.finish(result);
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
