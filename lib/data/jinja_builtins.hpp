// data/jinja_builtins.hpp: the filters, tests and methods of the chat-template engine (trim, tojson, join,
// default, selectattr, ...; defined, none, string, ...; str.strip, dict.get, ...). They fail by throwing
// Fault with what is wrong; the renderer adds the template and line.
#pragma once
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "data/jinja_value.hpp"

namespace memtx::data::jinja {

struct Fault : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using Args = std::vector<Value>;
using Kwargs = std::vector<std::pair<std::string, Value>>;

// The budget filters spend from (items made, bytes of strings, bytes copied by concatenation).
struct Budget {
  uint64_t items_left;
  size_t max_string;
  uint64_t copy_bytes_left = uint64_t(1) << 30;
  // A concatenation that makes `size` bytes (s = s ~ x in a loop copies quadratically: bounded here).
  void spend_copy(size_t size) {
    check_string(size);
    if (size > copy_bytes_left) throw Fault("the template builds too much text (concatenation limit reached)");
    copy_bytes_left -= size;
  }
  void spend(uint64_t n) {
    if (n > items_left) throw Fault("the template does too much work (loop and item limit reached)");
    items_left -= n;
  }
  void check_string(size_t size) const {
    if (size > max_string) throw Fault("a string longer than " + std::to_string(max_string) + " bytes");
  }
};

Value apply_filter(const std::string& name, const Value& operand, const Args& args, const Kwargs& kwargs,
                   Budget& budget);
bool apply_test(const std::string& name, const Value& operand, const Args& args);
// A method of a string, dict or list (found = false when there is none of that name).
Value call_method(const Value& object, const std::string& name, const Args& args, const Kwargs& kwargs,
                  Budget& budget, bool* found);
// Python's x[start:stop:step] of a list or string (absent parts are undefined or none).
Value slice(const Value& object, const Value& start, const Value& stop, const Value& step, Budget& budget);
// Python's x[index] of a list or string, negative from the end; undefined when out of range.
Value index_of(const Value& object, const Value& index);

}  // namespace memtx::data::jinja
