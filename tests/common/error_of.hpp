// tests/common/error_of.hpp: runs code that must throw memtx::Error with a given code, and returns its message.
#pragma once
#include <gtest/gtest.h>

#include <exception>
#include <functional>
#include <string>

#include "memtx/error.hpp"

namespace memtx_test {

// "" and a test failure when f throws nothing, another exception, or another code.
inline std::string error_of(const std::function<void()>& f, memtx::StatusCode code = memtx::StatusCode::Config) {
  try {
    f();
  } catch (const memtx::Error& e) {
    EXPECT_EQ(static_cast<int>(e.code()), static_cast<int>(code)) << e.what();
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected memtx::Error, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected an error, none was thrown";
  return "";
}

// The code of the memtx::Error f throws (its message into *message when given), StatusCode::Ok when it throws none.
inline memtx::StatusCode code_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const memtx::Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return memtx::StatusCode::Ok;
}

}  // namespace memtx_test
