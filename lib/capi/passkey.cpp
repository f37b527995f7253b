// capi/passkey.cpp: memtx_passkey, the passkey retrieval evaluation (infer/passkey.hpp) behind the C API:
// options and the report are JSON. Clears the model's cancel flag when it starts; memtx_cancel stops it.
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "capi/handles.hpp"
#include "data/synthetic.hpp"
#include "infer/passkey.hpp"

using namespace memtx::capi;
using memtx::Error;
using memtx::StatusCode;

namespace {

constexpr const char* kFn = "memtx_passkey";

[[noreturn]] void bad(const std::string& what) {
  throw Error(StatusCode::InvalidArgument, std::string(kFn) + ": options " + what);
}

int64_t integer(const nlohmann::json& v, const std::string& key, int64_t lo) {
  if (!v.is_number_integer()) bad("\"" + key + "\" must be an integer, got " + v.dump());
  const auto n = v.get<int64_t>();
  if (n < lo) bad("\"" + key + "\" must be >= " + std::to_string(lo) + ", got " + std::to_string(n));
  return n;
}

// A list, or one value standing for a list of one.
std::vector<nlohmann::json> items(const nlohmann::json& v, const std::string& key) {
  if (v.is_array()) {
    if (v.empty()) bad("\"" + key + "\" is an empty list");
    return std::vector<nlohmann::json>(v.begin(), v.end());
  }
  return {v};
}

// The key length the model was trained on when its training data is synthetic:passkey, else 5.
int default_digits(const memtx::Config& config) {
  if (const auto name = config.get_opt_string("training.dataset_name")) {
    try {
      if (const auto spec = memtx::data::parse_synthetic_name(*name); spec && spec->generator == "passkey")
        return spec->digits;
    } catch (const Error&) {  // a malformed name is the trainer's error to report, not the evaluation's
    }
  }
  return 5;
}

memtx::infer::PasskeyEvalOptions parse_options(const char* text, int default_digits) {
  memtx::infer::PasskeyEvalOptions o;
  o.digits = default_digits;
  if (!text || !*text) return o;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    bad(std::string("are not valid JSON: ") + e.what());
  }
  if (!j.is_object()) bad("must be a JSON object, got " + j.dump());
  static const std::set<std::string> known = {"lengths", "depths", "trials", "digits", "seed", "chunk_tokens", "batch_size"};
  for (const auto& [key, value] : j.items()) {
    if (!known.count(key))
      bad("has the unknown key \"" + key + "\" (known: lengths, depths, trials, digits, seed, chunk_tokens, batch_size)");
    if (key == "lengths") {
      o.lengths.clear();
      for (const auto& v : items(value, key)) o.lengths.push_back(integer(v, key, 1));
    } else if (key == "depths") {
      o.depths.clear();
      for (const auto& v : items(value, key)) {
        if (!v.is_number()) bad("\"depths\" must hold numbers in [0, 1], got " + v.dump());
        o.depths.push_back(v.get<double>());
      }
    } else if (key == "trials") {
      o.trials = integer(value, key, 1);
    } else if (key == "digits") {
      o.digits = static_cast<int>(std::min<int64_t>(integer(value, key, 1), 1000));
    } else if (key == "seed") {
      if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<int64_t>() >= 0))
        bad("\"seed\" must be a non-negative integer, got " + value.dump());
      o.seed = value.get<uint64_t>();
    } else if (key == "chunk_tokens") {
      o.chunk_tokens = integer(value, key, 0);
    } else if (key == "batch_size") {
      o.batch_size = integer(value, key, 1);
    }
  }
  return o;
}

nlohmann::json report(const memtx::infer::PasskeyResult& r, const memtx::infer::PasskeyEvalOptions& o) {
  nlohmann::json cells = nlohmann::json::array();
  for (const auto& c : r.cells) {
    nlohmann::json results = nlohmann::json::array();
    for (const auto& t : c.trials) {
      results.push_back({{"passkey", t.passkey},
                         {"output", t.output},
                         {"correct", t.correct},
                         {"digits_right", t.digits_right},
                         {"log_likelihood", t.log_likelihood},
                         {"needle_begin", t.needle_begin},
                         {"needle_end", t.needle_end},
                         {"depth", t.depth}});
    }
    nlohmann::json cell = {{"length", c.length},
                           {"depth", c.depth},
                           {"accuracy", c.accuracy},
                           {"correct", c.correct},
                           {"trials", c.trials.size()},
                           {"digit_accuracy", c.digit_accuracy},
                           {"mean_log_likelihood", c.mean_log_likelihood},
                           {"mean_depth", c.mean_depth},
                           {"first_needle_begin", c.first_needle_begin},
                           {"first_needle_segment", nullptr},
                           {"results", results}};
    if (r.segment_length > 0) cell["first_needle_segment"] = c.first_needle_begin / r.segment_length;
    cells.push_back(cell);
  }
  return {{"lengths", o.lengths},
          {"depths", o.depths},
          {"trials", o.trials},
          {"digits", o.digits},
          {"seed", o.seed},
          {"segment_length", r.segment_length},
          {"chunk_tokens", r.chunk_tokens},
          {"accuracy", r.accuracy},
          {"seconds", r.seconds},
          {"cells", cells}};
}

}  // namespace

extern "C" {

memtx_status* memtx_passkey(memtx_model* model, const char* options_json, char** out_json) {
  return guarded(kFn, [&] {
    if (out_json) *out_json = nullptr;  // NULL unless the call succeeds
    require(model, kFn, "model");
    const auto pass = use_model(*model, kFn);
    require(out_json, kFn, "out_json");
    model->cancel_requested.store(false);
    const auto options = parse_options(options_json, default_digits(model->model->config()));
    const auto& tokenizer = model_tokenizer(*model);
    const auto result = memtx::infer::evaluate_passkey(*model->model, tokenizer, options, &model->cancel_requested);
    if (result.cancelled)
      throw Error(StatusCode::Cancelled, std::string(kFn) + ": cancelled by memtx_cancel after " +
                                             std::to_string(result.cells.size()) + " cells");
    // Outputs of a weak model can be any bytes: invalid UTF-8 is written as U+FFFD.
    *out_json = copy_string(json_text(report(result, options)));
  });
}

}  // extern "C"
