// fuzz/trainer_state_fuzz.cpp: fuzzes the checkpoint folder's trainer_state.json reader
// (lib/train/trainer_state_json.cpp, what train::parse_trainer_state runs before the RNG states become tensors).
// A state that parses must keep the parser's promises: counters >= 0, a finite best metric, a positive finite
// loss scale, a data cursor that is a JSON object's text, and digests with 16 hex digits' worth of text.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_support.hpp"
#include "train/trainer_state_json.hpp"

namespace {

const char* const kOrigin = "checkpoint-1/trainer_state.json";

void check_state(const memtx::train::TrainerStateJson& parsed) {
  using memtx_fuzz::finding;
  const memtx::train::TrainerStateFields& s = parsed.fields;
  if (s.step < 0 || s.epoch < 0 || s.scheduler_step < 0 || s.evals_without_improvement < 0 || s.tokens_seen < 0 ||
      s.skipped_steps < 0)
    finding("a negative counter was accepted");
  if (s.best_metric && !std::isfinite(*s.best_metric)) finding("a non-finite best_metric was accepted");
  if (s.loss_scale && (!std::isfinite(s.loss_scale->scale) || s.loss_scale->scale <= 0 || s.loss_scale->good_steps < 0))
    finding("a bad loss scale was accepted");
  if (!nlohmann::json::parse(s.data_cursor).is_object()) finding("data_cursor is not a JSON object's text");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    check_state(memtx::train::parse_trainer_state_json(text, kOrigin));
  } catch (const memtx::Error& e) {
    memtx_fuzz::expect_error(e, {memtx::StatusCode::Io}, kOrigin);
  }
  return 0;
}
