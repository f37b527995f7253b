// capi/handles.hpp: what the opaque C handles hold, and the guard that turns every C++ exception into a
// memtx_status (no exception ever crosses the C boundary).
#pragma once
#include <c10/util/Exception.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>

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
  memtx::Config config;
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
  std::mutex progress_mutex;
  memtx_train_progress progress{};
  std::string train_report = "{}";
};

namespace memtx::capi {

memtx_status* make_status(memtx_status_code code, std::string message);
char* copy_string(const std::string& text);  // freed with memtx_string_free

// Runs body; maps memtx::Error to its code, c10::Error to TORCH, bad_alloc to OUT_OF_MEMORY, the rest to INTERNAL.
template <typename Body>
memtx_status* guarded(const char* function, Body&& body) noexcept {
  try {
    body();
    return nullptr;
  } catch (const memtx::Error& e) {
    return make_status(static_cast<memtx_status_code>(e.code()), e.what());
  } catch (const c10::Error& e) {
    return make_status(MEMTX_TORCH, std::string(function) + ": " + e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    return make_status(MEMTX_OUT_OF_MEMORY, std::string(function) + ": out of memory");
  } catch (const std::exception& e) {
    return make_status(MEMTX_INTERNAL, std::string(function) + ": " + e.what());
  } catch (...) {
    return make_status(MEMTX_INTERNAL, std::string(function) + ": unknown exception");
  }
}

// Error(InvalidArgument) naming the function and the parameter when a required pointer is NULL.
void require(const void* pointer, const char* function, const char* parameter);

// The model's tokenizer, loaded on first use (Error(Config) when its vocabulary exceeds the model's).
const memtx::data::Tokenizer& model_tokenizer(memtx_model& model);

}  // namespace memtx::capi
