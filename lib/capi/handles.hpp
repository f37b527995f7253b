// capi/handles.hpp: what the opaque C handles hold, and the guard that turns every C++ exception into a
// memtx_status (no exception ever crosses the C boundary).
#pragma once
#include <c10/util/Exception.h>

#include <cstring>
#include <new>
#include <string>

#include "memtx.h"
#include "model/transformer.hpp"
#include "plugin/registry.hpp"

struct memtx_status {
  memtx_status_code code;
  std::string message;
};

struct memtx_context {
  memtx::Registry registry;
  int log_level = 1;
};

struct memtx_config {
  explicit memtx_config(memtx::Config c) : config(std::move(c)) {}
  memtx::Config config;
};

struct memtx_model {
  memtx_context* context = nullptr;
  memtx::Transformer model{nullptr};
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

}  // namespace memtx::capi
