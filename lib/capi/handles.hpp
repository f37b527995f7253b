// capi/handles.hpp: what the opaque C handles hold, and the guard that turns every C++ exception into a
// memtx_status (no exception ever crosses the C boundary).
#pragma once
#include <c10/util/Exception.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "capi/model_gate.hpp"
#include "memtx.h"
#include "model/transformer.hpp"
#include "plugin/registry.hpp"
#include "tokenizer/tokenizer.hpp"

struct memtx_status {
  memtx_status_code code;
  std::string message;
};

struct memtx_context {
  memtx::Registry registry;
  std::atomic<int> log_level{1};
  std::mutex log_mutex;
  memtx_log_callback log_callback = nullptr;
  void* log_user_data = nullptr;
  // Delivers a line at level (1 warning, 2 info, 3 debug) to the callback or stderr, when level <= log_level.
  void log(int level, const std::string& line);
};

struct memtx_config {
  memtx_config(memtx::Config c, const memtx_context* ctx) : config(std::move(c)), context(ctx) {}
  // A copy of the config as it is now: calls that use a config work on their own copy, so memtx_config_set on
  // another thread never changes it under them.
  memtx::Config snapshot() const {
    std::shared_lock<std::shared_mutex> lock(mutex);
    return config;
  }
  memtx::Config config;  // read under a shared lock of mutex, changed under an exclusive one
  mutable std::shared_mutex mutex;
  const memtx_context* context;  // the context it was made in (its registry); outlives the config
};

struct memtx_model {
  memtx_context* context = nullptr;
  memtx::Transformer model{nullptr};
  // Tokenizer: loaded on first use from tokenizer_spec (model.tokenizer, or the Hugging Face folder).
  std::string tokenizer_spec;
  std::shared_ptr<const memtx::data::Tokenizer> tokenizer;
  // Training: the callback, the cancel flag (set from any thread or a signal handler), the latest progress
  // (read by memtx_train_poll from any thread) and the last run's JSON report.
  memtx_progress_callback progress_callback = nullptr;
  void* progress_user_data = nullptr;
  std::atomic<bool> cancel_requested{false};
  static_assert(std::atomic<bool>::is_always_lock_free, "memtx_cancel must be callable from a signal handler");
  // One call at a time; memtx_train refuses the others with MEMTX_BUSY (capi/model_gate.hpp).
  memtx::capi::ModelGate gate;
  std::mutex progress_mutex;
  memtx_train_progress progress{};
  std::string train_report = "{}";
};

namespace memtx::capi {

memtx_status* make_status(memtx_status_code code, std::string message);
char* copy_string(const std::string& text);  // freed with memtx_string_free

// The status of the exception being handled (call only inside a catch block): memtx::Error keeps its code,
// c10::Error is TORCH, bad_alloc OUT_OF_MEMORY, anything else INTERNAL; the message names function. Never throws:
// when even the status cannot be allocated it returns a static OUT_OF_MEMORY status (memtx_status_free skips it).
memtx_status* current_exception_status(const char* function) noexcept;

// Runs body; whatever it throws becomes a status (current_exception_status), so no exception crosses the C
// boundary. Every extern "C" function that can fail runs its body through this.
template <typename Body>
memtx_status* guarded(const char* function, Body&& body) noexcept {
  try {
    body();
    return nullptr;
  } catch (...) {
    return current_exception_status(function);
  }
}

// Text of a JSON value for the C API's JSON results: bytes that are not UTF-8 (paths, generated text, plugin
// strings) are written as U+FFFD instead of throwing; indent as nlohmann::json::dump.
std::string json_text(const nlohmann::json& value, int indent = 2);
std::string json_text(const nlohmann::ordered_json& value, int indent = 2);

// Error(InvalidArgument) naming the function and the parameter when a required pointer is NULL.
void require(const void* pointer, const char* function, const char* parameter);

// Text given as (pointer, byte count), NUL bytes included: the _n calls. text may be NULL when text_len is 0
// (Error(InvalidArgument) naming the parameter otherwise).
std::string text_arg(const char* text, size_t text_len, const char* function, const char* parameter);
// Hands text to the caller: *out_text (NUL-terminated, freed with memtx_string_free) and, when out_len is not
// NULL, its length in bytes (so text holding NUL bytes arrives whole).
void return_text(const std::string& text, char** out_text, size_t* out_len);

// Enters model's gate for one call (waits for the calls before it; Error(Busy) while memtx_train runs on it).
inline ModelGate::Pass use_model(memtx_model& model, const char* function) {
  return model.gate.enter(ModelGate::Use::Call, function);
}

// The model's tokenizer, loaded on first use (Error(Config) when its vocabulary exceeds the model's).
const memtx::data::Tokenizer& model_tokenizer(memtx_model& model);
// What the model's tokenizer is loaded from: the Hugging Face folder it came from, or its model.tokenizer.
std::string model_tokenizer_spec(const memtx_model& model);

}  // namespace memtx::capi
