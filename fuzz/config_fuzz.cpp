// fuzz/config_fuzz.cpp: fuzzes the config loader as `memtx-cli verify-config` runs it: YAML or JSON text ->
// Config::from_string over the shipped schema (the builtin keys and every shipped plugin's) -> validate().
// A document that loads and sets a key must also dump (to_yaml, to_json) into text that loads back to the same
// values (a string's bytes that are not UTF-8 reading back as U+FFFD, as lib/config/dump.cpp documents).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/internal.hpp"
#include "fuzz_support.hpp"
#include "memtx/config.hpp"
#include "memtx/text.hpp"
#include "shipped_schema.hpp"

namespace {

const char* const kOrigin = "fuzz-config.yaml";

// The value a dump writes: strings as valid UTF-8.
memtx::Value dumped(const memtx::Value& v) {
  if (v.type() == memtx::ValueType::String) return memtx::valid_utf8(v.as_string());
  if (v.type() != memtx::ValueType::StringList) return v;
  std::vector<std::string> items;
  for (const std::string& s : v.as_string_list()) items.push_back(memtx::valid_utf8(s));
  return items;
}

// The dump of a loaded config must load back (over the same schema) to the same value of every key.
void check_round_trip(const memtx::Config& config, const std::string& text, const char* format) {
  memtx::Config back(config.schema_ptr());
  try {
    back = memtx::Config::from_string(config.schema_ptr(), text, "dump");
  } catch (const memtx::Error& e) {
    memtx_fuzz::finding(std::string("the ") + format + " dump of a loaded config does not load: " + e.what() +
                        "\n--- dump ---\n" + text);
  }
  for (const memtx::OptionDef& def : config.schema().options())
    if (back.get(def.key) != dumped(config.get(def.key)))
      memtx_fuzz::finding(std::string("the ") + format + " dump changes " + def.key + ": " +
                          config.get(def.key).to_string() + " -> " + back.get(def.key).to_string());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto schema = memtx_test::shipped_schema();
  const std::string text(reinterpret_cast<const char*>(data), size);
  memtx::Config config(schema);
  try {
    config = memtx::Config::from_string(schema, text, kOrigin);
  } catch (const memtx::Error& e) {
    memtx_fuzz::expect_error(e, {memtx::StatusCode::Config}, kOrigin);
    return 0;
  }
  bool any_set = false;  // the dump of the defaults alone is the same every time: skip its cost
  for (const memtx::OptionDef& def : schema->options()) any_set = any_set || config.is_set(def.key);
  if (any_set) {
    check_round_trip(config, config.to_yaml(), "YAML");
    check_round_trip(config, config.to_json(), "JSON");
  }
  try {
    config.validate();
  } catch (const memtx::Error& e) {
    memtx_fuzz::expect_error(e, {memtx::StatusCode::Config}, "");
  }
  return 0;
}
