// train/trainer_state_json.cpp: the strict parser of trainer_state.json (see trainer_state_json.hpp).
#include "train/trainer_state_json.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "memtx/error.hpp"

namespace memtx::train {
namespace {

using Json = nlohmann::json;

[[noreturn]] void bad(const std::string& origin, const std::string& what) {
  throw Error(StatusCode::Io, origin + ": " + what);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string from_hex(const std::string& text, const std::string& origin, const std::string& field) {
  if (text.size() % 2) bad(origin, "'" + field + "' has an odd number of hex digits");
  std::string out(text.size() / 2, '\0');
  for (size_t i = 0; i < text.size(); i += 2) {
    const int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) bad(origin, "'" + field + "' is not lowercase hex (position " + std::to_string(i) + ")");
    out[i / 2] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

const Json& field(const Json& obj, const char* key, const std::string& origin, const std::string& where = "") {
  auto it = obj.find(key);
  if (it == obj.end()) bad(origin, "missing field '" + where + key + "'");
  return *it;
}

int64_t int_field(const Json& obj, const char* key, const std::string& origin, const std::string& where = "") {
  const Json& v = field(obj, key, origin, where);
  if (!v.is_number_integer() || v.get<int64_t>() < 0)
    bad(origin, "field '" + where + key + "' is not a non-negative integer");
  return v.get<int64_t>();
}

std::string string_field(const Json& obj, const char* key, const std::string& origin, const std::string& where = "") {
  const Json& v = field(obj, key, origin, where);
  if (!v.is_string()) bad(origin, "field '" + where + key + "' is not a string");
  return v.get<std::string>();
}

}  // namespace

TrainerStateJson parse_trainer_state_json(const std::string& text, const std::string& origin) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception& e) {
    bad(origin, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) bad(origin, "the document is not a JSON object");
  if (string_field(j, "format", origin) != kTrainerStateFormat)
    bad(origin, "format '" + j["format"].get<std::string>() + "', expected '" + kTrainerStateFormat + "'");
  TrainerStateJson out;
  TrainerStateFields& s = out.fields;
  s.memtx_version = string_field(j, "memtx_version", origin);
  s.step = int_field(j, "step", origin);
  s.epoch = int_field(j, "epoch", origin);
  const Json& cursor = field(j, "data_cursor", origin);
  if (!cursor.is_object()) bad(origin, "field 'data_cursor' is not a JSON object");
  s.data_cursor = cursor.dump();
  const Json& sched = field(j, "scheduler", origin);
  if (!sched.is_object()) bad(origin, "field 'scheduler' is not a JSON object");
  s.scheduler_step = int_field(sched, "step", origin, "scheduler.");
  const Json& best = field(j, "best_metric", origin);
  if (!best.is_null()) {
    if (!best.is_number() || !std::isfinite(best.get<double>())) bad(origin, "field 'best_metric' is not a number");
    s.best_metric = best.get<double>();
  }
  const Json& best_dir = field(j, "best_checkpoint", origin);
  if (!best_dir.is_null()) {
    if (!best_dir.is_string() || best_dir.get<std::string>().empty())
      bad(origin, "field 'best_checkpoint' is not a folder name");
    s.best_checkpoint = best_dir.get<std::string>();
  }
  s.evals_without_improvement = int_field(j, "evals_without_improvement", origin);
  s.tokens_seen = int_field(j, "tokens_seen", origin);
  s.skipped_steps = int_field(j, "skipped_steps", origin);
  const Json& rng = field(j, "rng", origin);
  if (!rng.is_object()) bad(origin, "field 'rng' is not a JSON object");
  out.cpu_rng = from_hex(string_field(rng, "cpu", origin, "rng."), origin, "rng.cpu");
  if (rng.contains("cuda")) out.cuda_rng = from_hex(string_field(rng, "cuda", origin, "rng."), origin, "rng.cuda");
  if (j.contains("loss_scale") && !j["loss_scale"].is_null()) {
    const Json& ls = j["loss_scale"];
    if (!ls.is_object()) bad(origin, "field 'loss_scale' is not a JSON object");
    const Json& scale = field(ls, "scale", origin, "loss_scale.");
    if (!scale.is_number() || !std::isfinite(scale.get<double>()) || scale.get<double>() <= 0)
      bad(origin, "field 'loss_scale.scale' is not a positive number");
    const int64_t good = int_field(ls, "good_steps", origin, "loss_scale.");
    s.loss_scale = LossScaleState{scale.get<double>(), good};
  }
  const Json& files = field(j, "files", origin);
  if (!files.is_object()) bad(origin, "field 'files' is not a JSON object");
  for (auto it = files.begin(); it != files.end(); ++it) {
    if (!it.value().is_object()) bad(origin, "field 'files." + it.key() + "' is not a JSON object");
    const std::string where = "files." + it.key() + ".";
    io::FileDigest d;
    const Json& bytes = field(it.value(), "bytes", origin, where);
    if (!bytes.is_number_unsigned()) bad(origin, "field '" + where + "bytes' is not a non-negative integer");
    d.bytes = bytes.get<uint64_t>();
    d.hash = string_field(it.value(), kTrainerStateHashKey, origin, where);
    out.files[it.key()] = d;
  }
  return out;
}

}  // namespace memtx::train
