// fuzz/fuzz_support.hpp: what the fuzz targets share. Bad input may end in the library's documented error,
// memtx::Error, whose message must say something (and name the file when the API promises so); anything else
// that escapes a parser (std::bad_alloc, std::length_error, std::out_of_range, a nlohmann::json exception) is
// a finding: it propagates out of LLVMFuzzerTestOneInput, std::terminate aborts, and libFuzzer keeps the input.
// A broken promise that throws nothing (a round trip that differs, an id out of range) is reported by finding().
#pragma once
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>

#include "memtx/error.hpp"

namespace memtx_fuzz {

// Prints what was broken and aborts: libFuzzer saves the input as a crash.
[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "\n==memtx fuzz finding== %s\n", what.c_str());
  std::abort();
}

inline const char* code_name(memtx::StatusCode code) {
  switch (code) {
    case memtx::StatusCode::InvalidArgument: return "InvalidArgument";
    case memtx::StatusCode::NotFound: return "NotFound";
    case memtx::StatusCode::Io: return "Io";
    case memtx::StatusCode::Config: return "Config";
    case memtx::StatusCode::Plugin: return "Plugin";
    default: return "another code";
  }
}

// An expected refusal: one of `codes`, a message that is not empty and, when `origin` is not empty, names it.
inline void expect_error(const memtx::Error& e, std::initializer_list<memtx::StatusCode> codes,
                         const std::string& origin) {
  bool allowed = false;
  for (memtx::StatusCode c : codes) allowed = allowed || c == e.code();
  const std::string message = e.what();
  if (!allowed) finding(std::string("memtx::Error with an unexpected code (") + code_name(e.code()) + "): " + message);
  if (message.empty()) finding("memtx::Error with an empty message");
  if (!origin.empty() && message.find(origin) == std::string::npos)
    finding("the message does not name '" + origin + "': " + message);
}

}  // namespace memtx_fuzz
