// dist/guard.hpp: guarded(what, body) runs body and lets only memtx::Error out: LibTorch's errors become
// Error(Torch) (out of memory: Error(OutOfMemory)), anything else Error(Internal), each message led by what.
#pragma once
#include <c10/util/Exception.h>

#include <new>
#include <string>

#include "memtx/error.hpp"

namespace memtx::dist::detail {

template <typename Body>
auto guarded(const char* what, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Error&) {
    throw;
  } catch (const c10::OutOfMemoryError& e) {
    throw Error(StatusCode::OutOfMemory, std::string(what) + ": " + e.what_without_backtrace());
  } catch (const c10::Error& e) {
    throw Error(StatusCode::Torch, std::string(what) + ": " + e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    throw Error(StatusCode::OutOfMemory, std::string(what) + ": out of memory");
  } catch (const std::exception& e) {
    throw Error(StatusCode::Internal, std::string(what) + ": " + e.what());
  } catch (...) {
    throw Error(StatusCode::Internal, std::string(what) + ": unknown exception");
  }
}

}  // namespace memtx::dist::detail
