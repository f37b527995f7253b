// train/trainer_state.cpp: trainer_state.json writing and strict parsing; the CPU RNG state.
#include "train/trainer_state.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <mutex>

#include <nlohmann/json.hpp>

#include "memtx.h"
#include "memtx/error.hpp"

namespace memtx::train {
namespace {

using Json = nlohmann::json;
constexpr const char* kFormat = "memtx-trainer-state-1";
constexpr const char* kHashKey = "fnv1a64w";

[[noreturn]] void bad(const std::string& origin, const std::string& what) {
  throw Error(StatusCode::Io, origin + ": " + what);
}

std::string to_hex(const torch::Tensor& bytes) {
  static const char* digits = "0123456789abcdef";
  const torch::Tensor t = bytes.to(torch::kCPU).contiguous();
  const uint8_t* p = t.data_ptr<uint8_t>();
  std::string out;
  out.reserve(static_cast<size_t>(t.numel()) * 2);
  for (int64_t i = 0; i < t.numel(); ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 15]);
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

torch::Tensor from_hex(const std::string& text, const std::string& origin, const std::string& field) {
  if (text.size() % 2) bad(origin, "'" + field + "' has an odd number of hex digits");
  torch::Tensor t = torch::empty({static_cast<int64_t>(text.size() / 2)}, torch::kUInt8);
  uint8_t* p = t.data_ptr<uint8_t>();
  for (size_t i = 0; i < text.size(); i += 2) {
    const int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) bad(origin, "'" + field + "' is not lowercase hex (position " + std::to_string(i) + ")");
    p[i / 2] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return t;
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

std::string memtx_version_string() { return MEMTX_VERSION_STRING; }

std::string trainer_state_to_json(const TrainerStateFile& file) {
  const TrainerState& s = file.state;
  if (s.step < 0 || s.epoch < 0 || s.scheduler_step < 0 || s.evals_without_improvement < 0 || s.tokens_seen < 0 ||
      s.skipped_steps < 0)
    throw Error(StatusCode::InvalidArgument, "trainer state: step, epoch, scheduler step and the counters must be >= 0");
  Json cursor;
  try {
    cursor = Json::parse(s.data_cursor);
  } catch (const Json::exception& e) {
    throw Error(StatusCode::InvalidArgument, std::string("trainer state: data_cursor is not valid JSON: ") + e.what());
  }
  if (!cursor.is_object())
    throw Error(StatusCode::InvalidArgument, "trainer state: data_cursor is a JSON " + std::string(cursor.type_name()) +
                                                 ", expected an object");
  if (s.best_metric && !std::isfinite(*s.best_metric))
    throw Error(StatusCode::InvalidArgument, "trainer state: best_metric is not finite");
  if (!s.cpu_rng_state.defined() || s.cpu_rng_state.scalar_type() != torch::kUInt8)
    throw Error(StatusCode::InvalidArgument, "trainer state: the CPU RNG state is not a uint8 tensor");
  Json j = Json::object();
  j["format"] = kFormat;
  j["memtx_version"] = s.memtx_version.empty() ? memtx_version_string() : s.memtx_version;
  j["step"] = s.step;
  j["epoch"] = s.epoch;
  j["data_cursor"] = cursor;
  j["scheduler"] = {{"step", s.scheduler_step}};
  j["best_metric"] = s.best_metric ? Json(*s.best_metric) : Json(nullptr);
  j["best_checkpoint"] = s.best_checkpoint.empty() ? Json(nullptr) : Json(s.best_checkpoint);
  j["evals_without_improvement"] = s.evals_without_improvement;
  j["tokens_seen"] = s.tokens_seen;
  j["skipped_steps"] = s.skipped_steps;
  if (s.loss_scale && (!std::isfinite(s.loss_scale->scale) || s.loss_scale->scale <= 0 || s.loss_scale->good_steps < 0))
    throw Error(StatusCode::InvalidArgument, "trainer state: the loss scale must be finite and > 0, its good steps >= 0");
  j["rng"] = {{"cpu", to_hex(s.cpu_rng_state)}};
  if (s.cuda_rng_state.defined()) j["rng"]["cuda"] = to_hex(s.cuda_rng_state);
  j["loss_scale"] = s.loss_scale ? Json{{"scale", s.loss_scale->scale}, {"good_steps", s.loss_scale->good_steps}}
                                 : Json(nullptr);
  Json files = Json::object();
  for (const auto& [name, d] : file.files) files[name] = {{"bytes", d.bytes}, {kHashKey, d.hash}};
  j["files"] = files;
  return j.dump(2) + "\n";
}

TrainerStateFile parse_trainer_state(const std::string& text, const std::string& origin) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception& e) {
    bad(origin, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) bad(origin, "the document is not a JSON object");
  if (string_field(j, "format", origin) != kFormat)
    bad(origin, "format '" + j["format"].get<std::string>() + "', expected '" + kFormat + "'");
  TrainerStateFile out;
  TrainerState& s = out.state;
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
  s.cpu_rng_state = from_hex(string_field(rng, "cpu", origin, "rng."), origin, "rng.cpu");
  if (rng.contains("cuda")) s.cuda_rng_state = from_hex(string_field(rng, "cuda", origin, "rng."), origin, "rng.cuda");
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
    d.hash = string_field(it.value(), kHashKey, origin, where);
    out.files[it.key()] = d;
  }
  return out;
}

torch::Tensor capture_cpu_rng_state() {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state().clone();
}

void check_cpu_rng_state(const torch::Tensor& state, const std::string& origin) {
  const torch::Tensor current = capture_cpu_rng_state();
  if (!state.defined() || state.scalar_type() != torch::kUInt8 || state.dim() != 1 ||
      state.numel() != current.numel())
    throw Error(StatusCode::Io, origin + ": the CPU RNG state has " +
                                    std::to_string(state.defined() ? state.numel() : 0) + " bytes, expected " +
                                    std::to_string(current.numel()));
}

void restore_cpu_rng_state(const torch::Tensor& state, const std::string& origin) {
  check_cpu_rng_state(state, origin);
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state.to(torch::kCPU).contiguous());
}

torch::Tensor capture_cuda_rng_state() {
  if (!torch::cuda::is_available()) return {};
  at::Generator gen = at::globalContext().defaultGenerator(c10::DeviceType::CUDA);
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state().clone();
}

void restore_cuda_rng_state(const torch::Tensor& state, const std::string& origin) {
  if (!state.defined() || !torch::cuda::is_available()) return;
  at::Generator gen = at::globalContext().defaultGenerator(c10::DeviceType::CUDA);
  std::lock_guard<std::mutex> lock(gen.mutex());
  const torch::Tensor current = gen.get_state();
  if (state.scalar_type() != torch::kUInt8 || state.dim() != 1 || state.numel() != current.numel())
    throw Error(StatusCode::Io, origin + ": the CUDA RNG state has " + std::to_string(state.numel()) +
                                    " bytes, expected " + std::to_string(current.numel()));
  gen.set_state(state.to(torch::kCPU).contiguous());
}

}  // namespace memtx::train
