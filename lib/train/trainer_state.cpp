// train/trainer_state.cpp: trainer_state.json writing, its parsing (train/trainer_state_json.cpp) with the RNG
// states made tensors; the CPU and CUDA RNG states.
#include "train/trainer_state.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstring>
#include <mutex>

#include <nlohmann/json.hpp>

#include "memtx.h"
#include "memtx/error.hpp"

namespace memtx::train {
namespace {

using Json = nlohmann::json;
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

// The bytes as a 1-D uint8 tensor.
torch::Tensor byte_tensor(const std::string& bytes) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
  if (!bytes.empty()) std::memcpy(t.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  return t;
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
  j["format"] = kTrainerStateFormat;
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
  for (const auto& [name, d] : file.files) files[name] = {{"bytes", d.bytes}, {kTrainerStateHashKey, d.hash}};
  j["files"] = files;
  return j.dump(2) + "\n";
}

TrainerStateFile parse_trainer_state(const std::string& text, const std::string& origin) {
  TrainerStateJson parsed = parse_trainer_state_json(text, origin);
  TrainerStateFile out;
  static_cast<TrainerStateFields&>(out.state) = std::move(parsed.fields);
  out.state.cpu_rng_state = byte_tensor(parsed.cpu_rng);
  if (parsed.cuda_rng) out.state.cuda_rng_state = byte_tensor(*parsed.cuda_rng);
  out.files = std::move(parsed.files);
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
