// data/jinja_template.hpp: a chat-template engine for the Jinja subset that Hugging Face chat templates use
// (rendered as transformers' apply_chat_template does: trim_blocks, lstrip_blocks, loop controls, the
// globals raise_exception, strftime_now, range and namespace, a JSON-style tojson). Parsing happens once;
// each render is bounded (output size, loop iterations, macro depth) and fails with Error(Config) naming
// the template, the line and the fault. Undefined names print as "" and are false, as in Jinja.
#pragma once
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "data/jinja_value.hpp"
#include "memtx/export.h"

namespace memtx::data::jinja {

struct RenderLimits {
  size_t max_output = size_t(16) << 20;  // bytes of output (and of any string made on the way)
  uint64_t max_iterations = 1000000;     // loop iterations and items made by filters, in all
  int max_depth = 64;                    // nested macro calls
  std::optional<std::time_t> now;        // the time strftime_now formats (UTC); unset: the local time now
};

class MEMTX_API Template {
 public:
  // Parses source; Error(Config) naming `name` for syntax the engine does not support.
  Template(const std::string& source, std::string name);
  ~Template();
  const std::string& name() const { return name_; }
  // The text of the template for the given variables (a dict of name -> value).
  std::string render(const Dict& variables, const RenderLimits& limits = RenderLimits()) const;

 private:
  struct Tree;
  std::string name_;
  std::shared_ptr<const Tree> tree_;
};

}  // namespace memtx::data::jinja
