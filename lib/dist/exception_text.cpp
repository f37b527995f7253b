// dist/exception_text.cpp: the texts of c10d's and gloo's exceptions and of durations for memtx's messages.
#include <c10/util/Exception.h>

#include "dist/backend.hpp"

namespace memtx::dist::detail {

std::string exception_text(const std::exception& e) {
  std::string text;
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) text = c10_error->what_without_backtrace();
  else text = e.what();
  // gloo prefixes "[/path/to/file.cc:123] ".
  if (text.size() > 2 && text[0] == '[' && text[1] == '/') {
    const size_t close = text.find("] ");
    if (close != std::string::npos) text = text.substr(close + 2);
  }
  // c10 appends "Exception raised from ..." lines on some paths; the first lines carry the message.
  const size_t raised = text.find("\nException raised from");
  if (raised != std::string::npos) text = text.substr(0, raised);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string exception_text(const std::exception_ptr& e) {
  if (!e) return "unknown error";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return exception_text(ex);
  } catch (...) {
    return "unknown error";
  }
}

std::string duration_text(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms < 1000) return std::to_string(ms) + " ms";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  std::string s = std::to_string(ms / 1000) + "." + std::to_string((ms % 1000) / 100);
  return s + " s";
}

}  // namespace memtx::dist::detail
