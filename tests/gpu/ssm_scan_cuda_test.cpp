// tests/gpu/ssm_scan_cuda_test.cpp: the ssm plugin's CUDA selective scan (selective_scan_cuda.hpp) against the
// sequential reference scan on the same device and the same input values: y, the last state and the gradients of
// all six inputs (u, dt, A, B, C, h0), with gradients on both y and the last state (or on one only). float32
// inputs to 1e-4 relative, bfloat16 u/dt/B/C against the reference on their float32 values to 1e-2 (the kernel
// rounds y, du, ddt, dB, dC to bf16); lengths shorter than, equal to and longer than a 16-step chunk, N = 16, 13,
// 64 and 1, nonzero h0, decays that underflow to 0 (large dt), and batch x channel sizes that give the kernel 8, 4,
// 2 and 1 lanes per channel. Also the dispatch (auto and chunked on CUDA tensors), the errors, and the mixer under
// bf16 autocast. Every test that needs a GPU skips without one; two run anywhere: cuda_scan_compiled() tells the
// build, and the CUDA scan on CPU tensors is a memtx Error.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "common/shipped_schema.hpp"
#include "memtx/config.hpp"
#include "memtx/error.hpp"
#include "memtx/torch_compat.hpp"
#include "selective_scan.hpp"
#include "selective_scan_cuda.hpp"
#include "ssm_mixer.hpp"

namespace memtx::ssm {
namespace {

#define MEMTX_SCAN_REQUIRE_GPU()                                                       \
  do {                                                                                 \
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";                \
    if (!cuda_scan_compiled()) GTEST_SKIP() << "this build has no CUDA scan kernels"; \
  } while (0)

constexpr double kFp32Tolerance = 1e-4, kBf16Tolerance = 1e-2;

// max |a - b| / max |b| (b the reference), in float64 on the CPU; 0 for empty tensors.
double relative_diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_TRUE(a.defined() && b.defined());
  if (!a.defined() || !b.defined()) return 1e30;
  EXPECT_EQ(a.sizes(), b.sizes());
  if (b.numel() == 0) return 0.0;
  auto a64 = a.detach().to(torch::kCPU, torch::kDouble), b64 = b.detach().to(torch::kCPU, torch::kDouble);
  const double scale = b64.abs().max().item<double>(), diff = (a64 - b64).abs().max().item<double>();
  return scale > 0 ? diff / scale : diff;
}

// body() throws a memtx Error(InvalidArgument) whose message holds `needle`.
void expect_invalid_argument(const std::function<void()>& body, const std::string& needle) {
  try {
    body();
    ADD_FAILURE() << "no error (expected one mentioning '" << needle << "')";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::InvalidArgument) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

struct ScanCase {
  std::string name;
  int64_t batch, steps, channels, states;
  torch::ScalarType dtype = torch::kFloat;  // of u, dt, B, C
  bool large_dt = false;                    // dt in [50, 200]: exp(dt A) underflows to 0
  bool grad_y = true, grad_last = true;     // which outputs the loss uses
};

std::ostream& operator<<(std::ostream& out, const ScanCase& c) { return out << c.name; }

// The inputs in float32 on the CPU; u, dt, B, C already rounded to the case's dtype.
struct Inputs {
  torch::Tensor u, dt, A, Bm, Cm, h0, y_weight, last_weight;
};

Inputs make_inputs(const ScanCase& c, uint64_t seed) {
  torch::manual_seed(seed);
  const int64_t B = c.batch, T = c.steps, C = c.channels, N = c.states;
  auto round = [&](torch::Tensor t) { return t.to(c.dtype).to(torch::kFloat); };
  Inputs in;
  in.u = round(torch::randn({B, T, C}));
  in.dt = round(c.large_dt ? torch::rand({B, T, C}) * 150.0 + 50.0 : torch::softplus(torch::randn({B, T, C}) - 1.0));
  in.A = -torch::exp(0.5 * torch::randn({C, N})) * torch::arange(1, N + 1, torch::kFloat);
  in.Bm = round(torch::randn({B, T, N}));
  in.Cm = round(torch::randn({B, T, N}));
  in.h0 = torch::randn({B, C, N});
  in.y_weight = round(torch::randn({B, T, C}));  // dy; representable in the case's dtype
  in.last_weight = torch::randn({B, C, N});
  return in;
}

struct Outcome {
  torch::Tensor y, last;
  std::vector<torch::Tensor> grads;  // u, dt, A, B, C, h0
};

// One scan with leaves on CUDA (u, dt, B, C in `dtype`, A and h0 float32) and loss sum(y w_y) + sum(last w_last).
template <typename Scan>
Outcome run_scan(const ScanCase& c, const Inputs& in, torch::ScalarType dtype, Scan&& scan) {
  const auto dev = torch::Device(torch::kCUDA, 0);
  auto leaf = [&](const torch::Tensor& t, torch::ScalarType type) { return t.to(dev, type).requires_grad_(true); };
  std::vector<torch::Tensor> leaves = {leaf(in.u, dtype),  leaf(in.dt, dtype),         leaf(in.A, torch::kFloat),
                                       leaf(in.Bm, dtype), leaf(in.Cm, dtype), leaf(in.h0, torch::kFloat)};
  ScanResult r = scan(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], leaves[5]);
  torch::Tensor loss = torch::zeros({}, torch::TensorOptions().device(dev));
  if (c.grad_y) loss = loss + (r.y.to(torch::kFloat) * in.y_weight.to(dev)).sum();
  if (c.grad_last) loss = loss + (r.last_state * in.last_weight.to(dev)).sum();
  loss.backward();
  Outcome out{r.y.detach(), r.last_state.detach(), {}};
  for (auto& t : leaves) out.grads.push_back(t.grad().defined() ? t.grad() : torch::zeros_like(t));
  return out;
}

Outcome run_reference(const ScanCase& c, const Inputs& in) {
  return run_scan(c, in, torch::kFloat, [](auto&&... args) { return sequential_scan(args...); });
}

Outcome run_kernel(const ScanCase& c, const Inputs& in) {
  return run_scan(c, in, c.dtype, [](auto&&... args) { return cuda_scan(args...); });
}

void expect_agreement(const ScanCase& c, const Outcome& kernel, const Outcome& reference) {
  const double tol = c.dtype == torch::kFloat ? kFp32Tolerance : kBf16Tolerance;
  EXPECT_EQ(kernel.y.scalar_type(), c.dtype);
  EXPECT_EQ(kernel.last.scalar_type(), torch::kFloat);
  const double y_err = relative_diff(kernel.y, reference.y), last_err = relative_diff(kernel.last, reference.last);
  EXPECT_LE(y_err, tol) << "y";
  EXPECT_LE(last_err, tol) << "last state";
  const char* names[] = {"du", "ddt", "dA", "dB", "dC", "dh0"};
  std::cout << "[ssm cuda scan] " << c.name << ": y " << y_err << ", last " << last_err;
  for (size_t i = 0; i < 6; ++i) {
    const double err = relative_diff(kernel.grads[i], reference.grads[i]);
    EXPECT_LE(err, tol) << names[i];
    EXPECT_EQ(kernel.grads[i].scalar_type(), i == 2 || i == 5 ? torch::kFloat : c.dtype) << names[i];
    std::cout << ", " << names[i] << " " << err;
  }
  std::cout << "\n";
}

class SsmCudaScanAgreement : public ::testing::TestWithParam<ScanCase> {};

TEST_P(SsmCudaScanAgreement, OutputsAndGradientsMatchTheSequentialScan) {
  MEMTX_SCAN_REQUIRE_GPU();
  const ScanCase& c = GetParam();
  const Inputs in = make_inputs(c, 1000 + uint64_t(c.steps) * 7 + uint64_t(c.states));
  const Outcome reference = run_reference(c, in), kernel = run_kernel(c, in);
  expect_agreement(c, kernel, reference);
  // The reference really depends on every input (a gradient that is all zero would compare trivially).
  if (c.steps > 1 && c.grad_y && c.grad_last && !c.large_dt) {
    for (size_t i = 0; i < 6; ++i) EXPECT_GT(reference.grads[i].abs().max().item<double>(), 0.0) << i;
  }
}

std::vector<ScanCase> scan_cases() {
  const auto f32 = torch::kFloat, bf16 = torch::kBFloat16;
  std::vector<ScanCase> cases;
  for (int64_t T : {1, 7, 16, 37, 64}) cases.push_back({"f32_N16_T" + std::to_string(T), 2, T, 150, 16, f32});
  for (int64_t T : {16, 37}) cases.push_back({"f32_N13_T" + std::to_string(T), 2, T, 150, 13, f32});
  cases.push_back({"f32_N64_T37", 2, 37, 70, 64, f32});
  cases.push_back({"f32_N1_T20", 2, 20, 70, 1, f32});
  for (int64_t T : {7, 16, 37}) cases.push_back({"bf16_N16_T" + std::to_string(T), 2, T, 150, 16, bf16});
  cases.push_back({"bf16_N13_T37", 2, 37, 150, 13, bf16});
  cases.push_back({"f32_underflow_T37", 2, 37, 150, 16, f32, true});
  cases.push_back({"bf16_underflow_T37", 2, 37, 150, 16, bf16, true});
  // Batch x channels 10000, 20000 and 32800 give 4, 2 and 1 lanes per channel (150 channels above: 8).
  for (int64_t C : {5000, 10000, 16400}) cases.push_back({"f32_C" + std::to_string(C) + "_T37", 2, 37, C, 16, f32});
  cases.push_back({"f32_grad_y_only_T37", 2, 37, 150, 16, f32, false, true, false});
  cases.push_back({"f32_grad_last_only_T37", 2, 37, 150, 16, f32, false, false, true});
  cases.push_back({"bf16_grad_last_only_T37", 2, 37, 150, 13, bf16, false, false, true});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Cases, SsmCudaScanAgreement, ::testing::ValuesIn(scan_cases()),
                         [](const ::testing::TestParamInfo<ScanCase>& info) { return info.param.name; });

// No time steps: y is empty, the last state is h0 and its gradient goes to h0.
TEST(SsmCudaScan, EmptySequenceReturnsH0) {
  MEMTX_SCAN_REQUIRE_GPU();
  const ScanCase c{"empty", 2, 0, 20, 16, torch::kFloat, false, false, true};
  const Inputs in = make_inputs(c, 3);
  const Outcome kernel = run_kernel(c, in);
  EXPECT_EQ(kernel.y.sizes().vec(), (std::vector<int64_t>{2, 0, 20}));
  EXPECT_EQ(relative_diff(kernel.last, in.h0), 0.0);
  EXPECT_EQ(relative_diff(kernel.grads[5], in.last_weight), 0.0);
}

// auto and chunked on CUDA tensors run the kernel (bit for bit the same as cuda_scan); sequential does not.
TEST(SsmCudaScan, AutoAndChunkedRunTheKernelOnCuda) {
  MEMTX_SCAN_REQUIRE_GPU();
  const ScanCase c{"dispatch", 2, 37, 150, 16};
  const Inputs in = make_inputs(c, 5);
  const auto dev = torch::Device(torch::kCUDA, 0);
  auto on = [&](const torch::Tensor& t) { return t.to(dev); };
  const auto direct = cuda_scan(on(in.u), on(in.dt), on(in.A), on(in.Bm), on(in.Cm), on(in.h0));
  for (ScanKind kind : {ScanKind::Auto, ScanKind::Chunked}) {
    EXPECT_TRUE(scan_runs_cuda_kernel(kind, dev, c.states)) << scan_kind_name(kind);
    const auto r = selective_scan(kind, on(in.u), on(in.dt), on(in.A), on(in.Bm), on(in.Cm), on(in.h0));
    EXPECT_TRUE(torch::equal(r.y, direct.y)) << scan_kind_name(kind);
    EXPECT_TRUE(torch::equal(r.last_state, direct.last_state)) << scan_kind_name(kind);
  }
  EXPECT_FALSE(scan_runs_cuda_kernel(ScanKind::Sequential, dev, c.states));
  EXPECT_FALSE(scan_runs_cuda_kernel(ScanKind::Auto, torch::Device(torch::kCPU), c.states));
}

// auto on CUDA keeps the sequential scan for what the kernel does not take (d_state > 64, float64), as before the
// kernel; chunked names the kernel and says why it refuses.
TEST(SsmCudaScan, AutoFallsBackToSequentialWhereTheKernelRefuses) {
  MEMTX_SCAN_REQUIRE_GPU();
  const auto dev = torch::Device(torch::kCUDA, 0);
  const Inputs wide = make_inputs({"wide", 1, 20, 8, 65}, 13);
  auto on = [&](const torch::Tensor& t, torch::ScalarType type = torch::kFloat) { return t.to(dev, type); };
  EXPECT_FALSE(scan_runs_cuda_kernel(ScanKind::Auto, dev, 65));
  const auto a =
      selective_scan(ScanKind::Auto, on(wide.u), on(wide.dt), on(wide.A), on(wide.Bm), on(wide.Cm), on(wide.h0));
  const auto s = sequential_scan(on(wide.u), on(wide.dt), on(wide.A), on(wide.Bm), on(wide.Cm), on(wide.h0));
  EXPECT_TRUE(torch::equal(a.y, s.y));
  expect_invalid_argument(
      [&] {
        selective_scan(ScanKind::Chunked, on(wide.u), on(wide.dt), on(wide.A), on(wide.Bm), on(wide.Cm), on(wide.h0));
      },
      "d_state");
  const Inputs in = make_inputs({"double", 1, 20, 8, 4}, 13);
  const auto f64 = torch::kDouble;
  const auto d = selective_scan(ScanKind::Auto, on(in.u, f64), on(in.dt, f64), on(in.A, f64), on(in.Bm, f64),
                                on(in.Cm, f64), on(in.h0, f64));
  EXPECT_EQ(d.y.scalar_type(), f64);
  EXPECT_LE(relative_diff(d.y, sequential_scan(in.u, in.dt, in.A, in.Bm, in.Cm, in.h0).y), 1e-5);
}

// Inputs the kernel refuses are memtx Errors naming what is wrong, before anything runs.
TEST(SsmCudaScan, RefusedInputsAreErrors) {
  MEMTX_SCAN_REQUIRE_GPU();
  const auto dev = torch::Device(torch::kCUDA, 0);
  const Inputs in = make_inputs({"errors", 1, 5, 8, 65}, 9);
  auto on = [&](const torch::Tensor& t) { return t.to(dev); };
  expect_invalid_argument([&] { cuda_scan(on(in.u), on(in.dt), on(in.A), on(in.Bm), on(in.Cm), on(in.h0)); },
                          "d_state");
  const Inputs ok = make_inputs({"errors", 1, 5, 8, 4}, 9);
  expect_invalid_argument(
      [&] { cuda_scan(on(ok.u), on(ok.dt), on(ok.A).to(torch::kBFloat16), on(ok.Bm), on(ok.Cm), on(ok.h0)); }, "A is");
  expect_invalid_argument([&] { cuda_scan(on(ok.u), on(ok.dt), on(ok.A), on(ok.Bm), on(ok.Cm), ok.h0); }, "h0 is on");
  expect_invalid_argument(
      [&] { cuda_scan(on(ok.u), on(ok.dt).to(torch::kBFloat16), on(ok.A), on(ok.Bm), on(ok.Cm), on(ok.h0)); }, "dt is");
  expect_invalid_argument(
      [&] {
        cuda_scan(on(ok.u).to(torch::kHalf), on(ok.dt).to(torch::kHalf), on(ok.A), on(ok.Bm).to(torch::kHalf),
                  on(ok.Cm).to(torch::kHalf), on(ok.h0));
      },
      "bfloat16");
}

// The mixer on CUDA, the kernel (auto) against the sequential scan on the same weights: in float32 (TF32 off) to
// 1e-4, and under bf16 autocast, where the kernel reads bf16 u, dt, B, C, loosely (dt is rounded to bf16).
class Fp32Matmuls {
 public:
  Fp32Matmuls() : cublas_(at::globalContext().allowTF32CuBLAS()), cudnn_(at::globalContext().allowTF32CuDNN()) {
    at::globalContext().setAllowTF32CuBLAS(false);
    at::globalContext().setAllowTF32CuDNN(false);
  }
  ~Fp32Matmuls() {
    at::globalContext().setAllowTF32CuBLAS(cublas_);
    at::globalContext().setAllowTF32CuDNN(cudnn_);
  }

 private:
  bool cublas_, cudnn_;
};

struct MixerRun {
  torch::Tensor out, x_grad, h;
};

MixerRun run_mixer(SsmMixerImpl& mixer, const torch::Tensor& x, const torch::Tensor& weight, bool autocast) {
  mixer.zero_grad();
  auto xi = x.clone().requires_grad_(true);
  LayerState state = mixer.initial_state(x.size(0), x.options());
  AttentionContext ctx;
  ctx.state = &state;
  if (autocast) compat::set_autocast(c10::DeviceType::CUDA, true, torch::kBFloat16);
  torch::Tensor out;
  try {
    out = mixer.forward(xi, ctx);
  } catch (...) {
    if (autocast) compat::set_autocast(c10::DeviceType::CUDA, false, torch::kBFloat16);
    throw;
  }
  if (autocast) compat::set_autocast(c10::DeviceType::CUDA, false, torch::kBFloat16);
  ((out.to(torch::kFloat) * weight).sum() + state["h"].sum()).backward();
  return {out.detach(), xi.grad(), state["h"].detach()};
}

TEST(SsmCudaScanMixer, KernelMatchesSequentialInFloat32AndUnderBf16Autocast) {
  MEMTX_SCAN_REQUIRE_GPU();
  const Fp32Matmuls fp32;
  Config config(memtx_test::shipped_schema());
  config.set("attention.ssm_mamba_expand", 2);
  config.set("attention.ssm_d_state", 16);
  config.set("attention.ssm_dt_rank", 8);
  config.set("attention.ssm_conv_kernel_size", 4);
  AttentionSpec spec;
  spec.variant = "ssm";
  spec.hidden_dim = 64;
  spec.num_heads = 1;
  spec.num_kv_heads = 1;
  spec.head_dim = 64;
  spec.config = &config;
  torch::manual_seed(21);
  auto mixer = std::make_shared<SsmMixerImpl>(spec);
  mixer->reset_parameters(0.1);
  const auto dev = torch::Device(torch::kCUDA, 0);
  mixer->to(dev);
  auto x = torch::randn({2, 45, 64}).to(dev), weight = torch::randn({2, 45, 64}).to(dev);
  for (bool autocast : {false, true}) {
    mixer->set_scan(ScanKind::Sequential);
    const MixerRun reference = run_mixer(*mixer, x, weight, autocast);
    mixer->set_scan(ScanKind::Auto);
    const MixerRun kernel = run_mixer(*mixer, x, weight, autocast);
    const double tol = autocast ? 5e-2 : kFp32Tolerance;
    const double out_err = relative_diff(kernel.out, reference.out);
    const double grad_err = relative_diff(kernel.x_grad, reference.x_grad);
    const double h_err = relative_diff(kernel.h, reference.h);
    std::cout << "[ssm cuda mixer] autocast " << autocast << ": output " << out_err << ", input grad " << grad_err
              << ", state " << h_err << "\n";
    EXPECT_LE(out_err, tol) << "autocast " << autocast;
    EXPECT_LE(grad_err, tol) << "autocast " << autocast;
    EXPECT_LE(h_err, tol) << "autocast " << autocast;
    EXPECT_EQ(kernel.h.scalar_type(), torch::kFloat);
  }
}

// Runs anywhere: the flag says whether this build compiled the kernels.
TEST(SsmCudaScanBuild, CompiledFlagReflectsTheBuild) {
#ifdef MEMTX_WITH_CUDA
  EXPECT_TRUE(cuda_scan_compiled());
#else
  EXPECT_FALSE(cuda_scan_compiled());
#endif
}

// Runs anywhere: the CUDA scan on CPU tensors is a clean memtx Error (a build without the kernels says so), and
// the CPU scans are untouched.
TEST(SsmCudaScanBuild, CpuTensorsAreAnError) {
  const Inputs in = make_inputs({"cpu", 1, 5, 8, 4}, 11);
  expect_invalid_argument([&] { cuda_scan(in.u, in.dt, in.A, in.Bm, in.Cm, in.h0); }, "CUDA");
  EXPECT_FALSE(scan_runs_cuda_kernel(ScanKind::Chunked, torch::Device(torch::kCPU), 4));
  const auto chunked = selective_scan(ScanKind::Auto, in.u, in.dt, in.A, in.Bm, in.Cm, in.h0);
  const auto reference = sequential_scan(in.u, in.dt, in.A, in.Bm, in.Cm, in.h0);
  EXPECT_LE(relative_diff(chunked.y, reference.y), 1e-5);
}

}  // namespace
}  // namespace memtx::ssm
