// ssm/selective_scan.cpp: scan selection (attention.ssm_scan) and the shape checks shared by both scans.
#include "selective_scan.hpp"

#include <memtx/error.hpp>

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
                       const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& h0) {
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
  for (const auto* t : {&dt, &A, &Bm, &Cm, &h0}) {
    if (t->scalar_type() != u.scalar_type() || t->device() != u.device()) {
      throw Error(StatusCode::InvalidArgument, "ssm scan: every input must have u's dtype and device (" +
                                                   std::string(c10::toString(u.scalar_type())) + ", " + u.device().str() + ")");
    }
  }
}

ScanResult selective_scan(ScanKind kind, const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& A,
                          const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& h0) {
  if (kind == ScanKind::Auto) kind = u.device().is_cpu() ? ScanKind::Chunked : ScanKind::Sequential;
  if (kind == ScanKind::Sequential) return sequential_scan(u, dt, A, Bm, Cm, h0);
  return chunked_scan(u, dt, A, Bm, Cm, h0);
}

}  // namespace memtx::ssm
