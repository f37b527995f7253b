// memtx/error.hpp: the exception type used inside the C++ core and plugins. The C API turns every
// memtx::Error into a memtx_status carrying the same code and message; nothing else crosses the boundary.
#pragma once
#include <stdexcept>
#include <string>

#include "memtx/export.h"

namespace memtx {

// Same numbers as memtx_status_code in memtx.h (fixed forever: add, never renumber).
enum class StatusCode : int {
  Ok = 0,
  InvalidArgument = 1,
  NotFound = 2,
  Io = 3,
  Config = 4,
  Plugin = 5,
  AbiMismatch = 6,
  Duplicate = 7,
  Torch = 8,
  OutOfMemory = 9,
  Cancelled = 10,
  Internal = 11,
  Busy = 12,
};

class MEMTX_API Error : public std::runtime_error {
 public:
  Error(StatusCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  StatusCode code() const noexcept { return code_; }

 private:
  StatusCode code_;
};

}  // namespace memtx
