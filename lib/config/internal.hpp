// config/internal.hpp: helpers shared by the files of lib/config (not installed, not part of the API).
// Scalar text parsing and formatting (edit distance is public: memtx/text.hpp), the checks that turn a raw
// value into a value of an option's type (with the "expected ..., got ..." wording every error message
// uses), and the entry points of the cross-field rules.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "memtx/text.hpp"  // memtx::join

#include <yaml-cpp/yaml.h>

#include "memtx/config.hpp"


namespace memtx::config_detail {

// ---- text (text.cpp) ----
bool is_null_text(const std::string& s);   // null, Null, NULL, ~ or empty
std::optional<bool> parse_bool(const std::string& s);        // true/True/TRUE/false/False/FALSE
std::optional<int64_t> parse_int(const std::string& s);      // 12, -3, +4; also integral floats: 2.0, 1e3
std::optional<double> parse_float(const std::string& s);     // finite decimal or scientific: 0.5, 1e-4
std::string format_float(double v);                          // shortest round-trip text, always float-looking
// True when a string printed plain would be read back as something else (null, bool, number, list, ...).
bool needs_quotes(const std::string& s);
std::string quote(const std::string& s);                     // "text" with \" and \\ escaped
std::string trim(const std::string& s);
std::string section_of(const std::string& key);              // "model" for "model.hidden_dim"
std::string name_of(const std::string& key);                 // "hidden_dim" for "model.hidden_dim"
// A key or section name as messages show it: one longer than 120 bytes is cut after 100 (at a UTF-8
// boundary) and its length given, "aaaa... (1048576 bytes)".
std::string shown_name(const std::string& name);

// ---- schema helpers (schema.cpp) ----
// "unknown key 'model.hiden_dim' (did you mean 'model.hidden_dim'?)"
std::string unknown_key_message(const Schema& schema, const std::string& key);
// The section name closest to `name`, or "" when none is close.
std::string nearest_section(const Schema& schema, const std::string& name);

// ---- hostile documents (yaml_limits.cpp) ----
// Limits of a YAML/JSON configuration document (README.md, "Limits on input sizes").
constexpr size_t kMaxYamlDepth = 64;        // lists and mappings nested in each other
constexpr uint64_t kMaxYamlNodes = 100000;  // values of a document, aliases counted as what they repeat
// The position and message of the first breach of those limits, or nullopt (also for malformed text, which
// the real parse then reports). Reads parse events only: nothing is built or expanded.
std::optional<std::pair<YAML::Mark, std::string>> yaml_limit_breach(const std::string& text);

// ---- option checks (convert.cpp) ----
// "int >= 1", "one of cosine, linear, constant", "a list of int >= 0 or null", ...
std::string expectation(const OptionDef& def);
// The expectation for one element of a list option: "int >= 0", "a string", "one of a, b".
std::string item_expectation(const OptionDef& def);
// How an offending value is shown after "got": 'abc', boolean true, null, 12, [a, b].
std::string describe(const Value& v);
std::string describe_node(const YAML::Node& node);
// Bounds text for the reference: ">= 1", "[0, 1)", "" when unbounded.
std::string bounds_text(const OptionDef& def);

// A value failing its option: the message is "expected <expectation>, got <what>" without key or file;
// callers prefix "<origin>:<line>: <key>: " (or "<key>[i]: " for a list element).
struct ValueError {
  std::string message;
  long element = -1;  // index of the offending list element, -1 for the value itself
};

// Checks and normalises a typed value for def (int -> float, integral float -> int, string -> one-element
// string list, bounds, choices). Returns the stored value or throws ValueError.
Value coerce_value(const OptionDef& def, const Value& v);
// Converts a parsed YAML node for def. Element errors carry the element index; `bad_mark` (optional)
// then receives the position of the element at fault so the caller can report its line.
Value convert_node(const OptionDef& def, const YAML::Node& node, YAML::Mark* bad_mark);

// ---- cross-field rules ----
// Registers the builtin schema's rules (rules_builtin.cpp); Schema::builtin() calls it after adding its keys.
void add_builtin_rules(Schema& schema);
// Rules every schema has, run by validate() and listed by markdown_reference() after the schema's own
// (validate.cpp): no string value or list entry is the empty string.
const std::vector<ConfigRule>& common_rules();

}  // namespace memtx::config_detail
