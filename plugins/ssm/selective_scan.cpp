// ssm/selective_scan.cpp: scan selection (attention.ssm_scan: the sequential loop, the chunked CPU loop or the
// CUDA kernel by device) and the input checks shared by the scans.
#include "selective_scan.hpp"

#include <memtx/error.hpp>

#include "selective_scan_cuda.hpp"

namespace memtx::ssm {
namespace {

std::string shape_of(const torch::Tensor& t) { return c10::str(t.sizes()); }

void expect_shape(const char* name, const torch::Tensor& t, std::vector<int64_t> want) {
  if (!t.defined() || t.sizes() != c10::IntArrayRef(want)) {
    throw Error(StatusCode::InvalidArgument, std::string("ssm scan: ") + name + " has shape " +
                                                 (t.defined() ? shape_of(t) : "undefined") + ", expected " +
                                                 c10::str(c10::IntArrayRef(want)));
  }
}

// ScanDtypes::Float32State: dt, Bm, Cm in u's dtype, A and h0 in float32, everything on u's device.
void check_float32_state(const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& A,
                         const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& h0) {
  const std::pair<const char*, const torch::Tensor*> inputs[] = {
      {"dt", &dt}, {"A", &A}, {"B", &Bm}, {"C", &Cm}, {"h0", &h0}};
  for (const auto& [name, t] : inputs) {
    if (t->device() != u.device()) {
      throw Error(StatusCode::InvalidArgument, std::string("ssm scan: ") + name + " is on " + t->device().str() +
                                                   ", u on " + u.device().str() + " (every input on u's device)");
    }
    const bool state = t == &A || t == &h0;
    const auto want = state ? torch::kFloat : u.scalar_type();
    if (t->scalar_type() != want) {
      throw Error(StatusCode::InvalidArgument,
                  std::string("ssm scan: ") + name + " is " + c10::toString(t->scalar_type()) + ", expected " +
                      c10::toString(want) + (state ? " (A and h0 are float32)" : " (u's dtype)"));
    }
  }
}

}  // namespace

ScanKind parse_scan_kind(const std::string& name) {
  if (name == "auto") return ScanKind::Auto;
  if (name == "sequential") return ScanKind::Sequential;
  if (name == "chunked") return ScanKind::Chunked;
  throw Error(StatusCode::Config, "attention.ssm_scan: '" + name + "' is not a scan (expected auto, sequential or chunked)");
}

const char* scan_kind_name(ScanKind kind) {
  switch (kind) {
    case ScanKind::Sequential: return "sequential";
    case ScanKind::Chunked: return "chunked";
    default: return "auto";
  }
}

void check_scan_inputs(const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& A,
                       const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& h0, ScanDtypes dtypes) {
  if (!u.defined() || u.dim() != 3) {
    throw Error(StatusCode::InvalidArgument, "ssm scan: u must be [batch, time, channels], got " +
                                                 (u.defined() ? shape_of(u) : std::string("undefined")));
  }
  if (!A.defined() || A.dim() != 2) {
    throw Error(StatusCode::InvalidArgument, "ssm scan: A must be [channels, d_state], got " +
                                                 (A.defined() ? shape_of(A) : std::string("undefined")));
  }
  const int64_t B = u.size(0), T = u.size(1), C = u.size(2), N = A.size(1);
  expect_shape("dt", dt, {B, T, C});
  expect_shape("A", A, {C, N});
  expect_shape("B", Bm, {B, T, N});
  expect_shape("C", Cm, {B, T, N});
  expect_shape("h0", h0, {B, C, N});
  if (dtypes == ScanDtypes::Float32State) {
    check_float32_state(u, dt, A, Bm, Cm, h0);
    return;
  }
  for (const auto* t : {&dt, &A, &Bm, &Cm, &h0}) {
    if (t->scalar_type() != u.scalar_type() || t->device() != u.device()) {
      throw Error(StatusCode::InvalidArgument, "ssm scan: every input must have u's dtype and device (" +
                                                   std::string(c10::toString(u.scalar_type())) + ", " + u.device().str() + ")");
    }
  }
}

namespace {

// auto on a CUDA tensor: the kernel when this build has it and it takes the inputs (float32 or bfloat16, N <= 64);
// else the sequential scan, as before the kernel existed.
bool auto_picks_kernel(torch::ScalarType dtype, int64_t states) {
  return cuda_scan_compiled() && (dtype == torch::kFloat || dtype == torch::kBFloat16) &&
         states <= cuda::kMaxScanState;
}

}  // namespace

bool scan_runs_cuda_kernel(ScanKind kind, const torch::Device& device, int64_t states) {
  if (!device.is_cuda()) return false;
  return kind == ScanKind::Chunked || (kind == ScanKind::Auto && auto_picks_kernel(torch::kFloat, states));
}

ScanResult selective_scan(ScanKind kind, const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& A,
                          const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& h0) {
  if (u.defined() && u.device().is_cuda()) {
    const int64_t states = A.defined() && A.dim() == 2 ? A.size(1) : 0;
    if (kind == ScanKind::Chunked || (kind == ScanKind::Auto && auto_picks_kernel(u.scalar_type(), states))) {
      return cuda_scan(u, dt, A, Bm, Cm, h0);
    }
  }
  if (kind == ScanKind::Auto) kind = u.defined() && u.device().is_cpu() ? ScanKind::Chunked : ScanKind::Sequential;
  if (kind == ScanKind::Sequential) return sequential_scan(u, dt, A, Bm, Cm, h0);
  return chunked_scan(u, dt, A, Bm, Cm, h0);
}

}  // namespace memtx::ssm
