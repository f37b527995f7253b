// fuzz/hf_config_fuzz.cpp: fuzzes the Hugging Face config.json mapping (lib/model/hf_config.cpp and the
// architecture table, hf_arch_*.cpp) as model/hf_import.cpp runs it: the JSON text is parsed (a malformed one
// is refused there with Error(Io)), mapped onto a memtx Config over the shipped schema, and validated.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_support.hpp"
#include "model/hf_config.hpp"
#include "shipped_schema.hpp"

namespace {

const char* const kFile = "hf-model/config.json";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto schema = memtx_test::shipped_schema();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;  // hf_import's read_json: Error(Io) "not valid JSON"
  }
  memtx::Config config(schema);
  try {
    memtx::HfModelInfo info;
    config = memtx::hf_config_from_json(j, kFile, schema, &info);
  } catch (const memtx::Error& e) {
    memtx_fuzz::expect_error(e, {memtx::StatusCode::Config}, kFile);
    return 0;
  }
  try {
    config.validate();  // the cross-field rules model creation runs first
  } catch (const memtx::Error& e) {
    memtx_fuzz::expect_error(e, {memtx::StatusCode::Config}, "");
  }
  return 0;
}
