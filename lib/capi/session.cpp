// capi/session.cpp: the session calls of the C API (streaming inference over one sequence, infer/session.hpp).
// memtx_session_generate(_text) clear the model's cancel flag when they start; memtx_cancel then stops them.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "capi/generate_options.hpp"
#include "capi/handles.hpp"
#include "infer/session.hpp"

using namespace memtx::capi;
using memtx::Error;
using memtx::StatusCode;

struct memtx_session {
  memtx_model* model = nullptr;
  std::unique_ptr<memtx::infer::Session> session;
  mutable std::mutex mutex;  // one call on this session at a time (position and state_bytes take only this)
};

namespace {

// One session call: the session's own lock, then its model's gate (a session runs its model's modules).
struct SessionUse {
  std::unique_lock<std::mutex> session_lock;
  memtx::capi::ModelGate::Pass model_pass;
};

SessionUse use_session(memtx_session& s, const char* fn) {
  std::unique_lock<std::mutex> lock(s.mutex);
  return SessionUse{std::move(lock), use_model(*s.model, fn)};
}

std::vector<int64_t> token_vector(const int64_t* tokens, size_t n, const char* fn) {
  if (n > 0) require(tokens, fn, "tokens");
  return n > 0 ? std::vector<int64_t>(tokens, tokens + n) : std::vector<int64_t>();
}

// Checks out/capacity before anything is fed (so a bad call leaves the stream unchanged).
void check_logits_out(const memtx_session& s, const float* out, size_t capacity, const std::string& fn) {
  if (!out) return;
  const int64_t vocab = s.model->model->spec().vocab_size;
  if (capacity < static_cast<size_t>(vocab))
    throw Error(StatusCode::InvalidArgument, fn + ": capacity " + std::to_string(capacity) +
                                                 " floats is less than the vocabulary size " + std::to_string(vocab));
}

void write_last_logits(const memtx_session& s, float* out, const std::string& fn) {
  if (!out) return;
  const torch::Tensor& row = s.session->last_logits();
  if (!row.defined())
    throw Error(StatusCode::InvalidArgument, fn + ": the stream is empty, there are no last logits to write");
  auto contiguous = row.contiguous();
  std::memcpy(out, contiguous.data_ptr<float>(), static_cast<size_t>(contiguous.numel()) * sizeof(float));
}

// A fed piece: the last logits are written after the feed; an empty stream with out given fails first.
void feed(memtx_session& s, const std::vector<int64_t>& ids, float* out, size_t capacity, const std::string& fn) {
  check_logits_out(s, out, capacity, fn);
  if (out && ids.empty() && s.session->position() == 0)
    throw Error(StatusCode::InvalidArgument, fn + ": the stream is empty, there are no last logits to write");
  try {
    s.session->feed(ids);
  } catch (const Error& e) {
    throw Error(e.code(), fn + ": " + e.what());
  }
  write_last_logits(s, out, fn);
}

memtx::infer::GenerateResult generate(memtx_session& s, memtx::infer::GenerateOptions g, const std::string& fn) {
  try {
    return s.session->generate(g, &s.model->cancel_requested);
  } catch (const Error& e) {
    throw Error(e.code(), fn + ": " + e.what());
  }
}

Error cancelled(const std::string& fn, size_t made) {
  return Error(StatusCode::Cancelled, fn + ": cancelled by memtx_cancel after " + std::to_string(made) +
                                          " new tokens (they are part of the stream)");
}

// Feeds text tokenized on its own (memtx_session_feed_text).
void feed_text(memtx_session& s, const std::string& text, float* out, size_t capacity, const char* fn) {
  check_logits_out(s, out, capacity, fn);
  feed(s, model_tokenizer(*s.model).encode(text), out, capacity, fn);
}

// The continuation as text (memtx_session_generate_text).
std::string generate_text(memtx_session& s, const memtx_generate_options* options, const char* fn) {
  s.model->cancel_requested.store(false);
  const memtx::data::Tokenizer& tokenizer = model_tokenizer(*s.model);
  const memtx_generate_options o = read_generate_options(options, fn);
  memtx::infer::GenerateOptions g = generate_options(*s.model, o, fn);
  if (g.max_new_tokens < 0)
    throw Error(StatusCode::InvalidArgument,
                std::string(fn) + ": options->max_new_tokens must be >= 0, got " + std::to_string(g.max_new_tokens));
  g.vocab_limit = tokenizer.vocab_size();  // only ids the tokenizer can turn back into text
  GenerateStream stream(o, &tokenizer);
  stream.attach(g);
  const auto result = generate(s, g, fn);
  stream.finish(result);
  if (result.reason == memtx::infer::StopReason::Cancelled) throw cancelled(fn, result.tokens.size());
  return tokenizer.decode(result.tokens);
}

}  // namespace

extern "C" {

memtx_status* memtx_session_create(memtx_model* model, memtx_session** out) {
  return guarded("memtx_session_create", [&] {
    require(model, "memtx_session_create", "model");
    const auto pass = use_model(*model, "memtx_session_create");
    require(out, "memtx_session_create", "out");
    *out = nullptr;
    auto s = std::make_unique<memtx_session>();
    s->model = model;
    s->session = std::make_unique<memtx::infer::Session>(*model->model);
    *out = s.release();
  });
}

void memtx_session_free(memtx_session* session) { delete session; }

memtx_status* memtx_session_feed(memtx_session* session, const int64_t* tokens, size_t n, float* out_last_logits,
                                 size_t capacity) {
  return guarded("memtx_session_feed", [&] {
    require(session, "memtx_session_feed", "session");
    const auto use = use_session(*session, "memtx_session_feed");
    feed(*session, token_vector(tokens, n, "memtx_session_feed"), out_last_logits, capacity, "memtx_session_feed");
  });
}

memtx_status* memtx_session_feed_text(memtx_session* session, const char* text, float* out_last_logits,
                                      size_t capacity) {
  return guarded("memtx_session_feed_text", [&] {
    require(session, "memtx_session_feed_text", "session");
    const auto use = use_session(*session, "memtx_session_feed_text");
    require(text, "memtx_session_feed_text", "text");
    feed_text(*session, text, out_last_logits, capacity, "memtx_session_feed_text");
  });
}

memtx_status* memtx_session_feed_text_n(memtx_session* session, const char* text, size_t text_len,
                                        float* out_last_logits, size_t capacity) {
  return guarded("memtx_session_feed_text_n", [&] {
    const char* fn = "memtx_session_feed_text_n";
    require(session, fn, "session");
    const auto use = use_session(*session, fn);
    feed_text(*session, text_arg(text, text_len, fn, "text"), out_last_logits, capacity, fn);
  });
}

memtx_status* memtx_session_feed_loss(memtx_session* session, const int64_t* tokens, size_t n, double* out_loss_sum,
                                      size_t* out_predicted) {
  return guarded("memtx_session_feed_loss", [&] {
    require(session, "memtx_session_feed_loss", "session");
    const auto use = use_session(*session, "memtx_session_feed_loss");
    require(out_loss_sum, "memtx_session_feed_loss", "out_loss_sum");
    require(out_predicted, "memtx_session_feed_loss", "out_predicted");
    const std::vector<int64_t> ids = token_vector(tokens, n, "memtx_session_feed_loss");
    memtx::infer::FeedScore score;
    try {
      session->session->feed(ids, &score);
    } catch (const Error& e) {
      throw Error(e.code(), std::string("memtx_session_feed_loss: ") + e.what());
    }
    *out_loss_sum += score.loss_sum;
    *out_predicted += static_cast<size_t>(score.predicted);
  });
}

memtx_status* memtx_session_generate(memtx_session* session, const memtx_generate_options* options,
                                     int64_t* out_tokens, size_t capacity, size_t* out_count) {
  return guarded("memtx_session_generate", [&] {
    const char* fn = "memtx_session_generate";
    require(session, fn, "session");
    const auto use = use_session(*session, fn);
    require(out_count, fn, "out_count");
    if (capacity > 0) require(out_tokens, fn, "out_tokens");
    *out_count = 0;
    session->model->cancel_requested.store(false);
    const memtx_generate_options o = read_generate_options(options, fn);
    memtx::infer::GenerateOptions g = generate_options(*session->model, o, fn);
    GenerateStream stream(o, stream_tokenizer(*session->model, o));
    stream.attach(g);
    if (g.max_new_tokens < 0)
      throw Error(StatusCode::InvalidArgument,
                  std::string(fn) + ": options->max_new_tokens must be >= 0, got " + std::to_string(g.max_new_tokens));
    g.max_new_tokens = std::min<int64_t>(g.max_new_tokens, static_cast<int64_t>(std::min<size_t>(capacity, INT64_MAX)));
    const auto result = generate(*session, g, fn);
    if (!result.tokens.empty()) std::memcpy(out_tokens, result.tokens.data(), result.tokens.size() * sizeof(int64_t));
    *out_count = result.tokens.size();
    stream.finish(result);
    if (result.reason == memtx::infer::StopReason::Cancelled) throw cancelled(fn, result.tokens.size());
  });
}

memtx_status* memtx_session_generate_text(memtx_session* session, const memtx_generate_options* options,
                                          char** out_text) {
  return guarded("memtx_session_generate_text", [&] {
    if (out_text) *out_text = nullptr;  // NULL unless the call succeeds
    const char* fn = "memtx_session_generate_text";
    require(session, fn, "session");
    const auto use = use_session(*session, fn);
    require(out_text, fn, "out_text");
    *out_text = copy_string(generate_text(*session, options, fn));
  });
}

memtx_status* memtx_session_generate_text_n(memtx_session* session, const memtx_generate_options* options,
                                            char** out_text, size_t* out_len) {
  return guarded("memtx_session_generate_text_n", [&] {
    if (out_text) *out_text = nullptr;  // NULL unless the call succeeds
    if (out_len) *out_len = 0;
    const char* fn = "memtx_session_generate_text_n";
    require(session, fn, "session");
    const auto use = use_session(*session, fn);
    require(out_text, fn, "out_text");
    return_text(generate_text(*session, options, fn), out_text, out_len);
  });
}

memtx_status* memtx_session_reset(memtx_session* session) {
  return guarded("memtx_session_reset", [&] {
    require(session, "memtx_session_reset", "session");
    const auto use = use_session(*session, "memtx_session_reset");
    session->session->reset();
  });
}

int64_t memtx_session_position(const memtx_session* session) {
  if (!session) return 0;
  std::lock_guard<std::mutex> lock(session->mutex);
  return session->session->position();
}

int64_t memtx_session_state_bytes(const memtx_session* session) {
  try {  // no status to return: a failure (out of memory while counting) reads as 0
    if (!session) return 0;
    std::lock_guard<std::mutex> lock(session->mutex);
    return session->session->state_bytes();
  } catch (...) {
    return 0;
  }
}

}  // extern "C"
