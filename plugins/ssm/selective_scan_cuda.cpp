// ssm/selective_scan_cuda.cpp: the torch side of the CUDA selective scan (selective_scan_cuda.hpp): checks the
// inputs (memtx Errors naming the tensor), makes them contiguous, allocates the outputs and the per-chunk state
// checkpoints, and runs the kernels of selective_scan_cuda.cu on the current CUDA stream inside an autograd
// Function whose backward is the backward kernel. Compiled by the C++ compiler; a build without CUDA
// (no MEMTX_WITH_CUDA) keeps only the Error that says so.
#include "selective_scan_cuda.hpp"

#include <memtx/error.hpp>

#ifdef MEMTX_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <stdexcept>
#endif

namespace memtx::ssm {

#ifdef MEMTX_WITH_CUDA
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The kernels' dtype for u, dt, Bm, Cm (already checked to be float32 or bfloat16).
cuda::ScanDtype kernel_dtype(const torch::Tensor& u) {
  return u.scalar_type() == torch::kBFloat16 ? cuda::ScanDtype::BFloat16 : cuda::ScanDtype::Float32;
}

cuda::ScanShape shape_of(const torch::Tensor& u, const torch::Tensor& A) {
  return {u.size(0), u.size(1), u.size(2), A.size(1)};
}

void* current_stream(const torch::Tensor& t) {
  return static_cast<void*>(c10::cuda::getCurrentCUDAStream(t.device().index()).stream());
}

// Runs a launcher; its std::invalid_argument / std::runtime_error come back as memtx Errors.
template <typename F>
void run_launcher(F&& launch) {
  try {
    launch();
  } catch (const std::invalid_argument& e) {
    throw Error(StatusCode::InvalidArgument, e.what());
  } catch (const Error&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw Error(StatusCode::Torch, e.what());
  }
}

void check_cuda_inputs(const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& A,
                       const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& h0) {
  // Shapes, u/dt/Bm/Cm in one dtype, A and h0 float32, everything on u's device.
  check_scan_inputs(u, dt, A, Bm, Cm, h0, ScanDtypes::Float32State);
  if (!u.device().is_cuda()) {
    throw Error(StatusCode::InvalidArgument, "ssm CUDA scan: u is on " + u.device().str() +
                                                 "; this scan takes CUDA tensors (attention.ssm_scan=auto picks the "
                                                 "scan for the device)");
  }
  const auto dtype = u.scalar_type();
  if (dtype != torch::kFloat && dtype != torch::kBFloat16) {
    throw Error(StatusCode::InvalidArgument, std::string("ssm CUDA scan: u, dt, B and C are ") + c10::toString(dtype) +
                                                 "; the kernel takes float32 or bfloat16");
  }
  if (A.size(1) > cuda::kMaxScanState) {
    throw Error(StatusCode::InvalidArgument, "ssm CUDA scan: d_state (A's last dimension) is " +
                                                 std::to_string(A.size(1)) + "; the kernel takes at most " +
                                                 std::to_string(cuda::kMaxScanState) +
                                                 " (use attention.ssm_scan=sequential for larger states)");
  }
}

struct CudaScanFunction : public torch::autograd::Function<CudaScanFunction> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& u_in, const torch::Tensor& dt_in,
                               const torch::Tensor& A, const torch::Tensor& Bm_in, const torch::Tensor& Cm_in,
                               const torch::Tensor& h0_in) {
    const c10::cuda::CUDAGuard guard(u_in.device());
    auto u = u_in.contiguous(), dt = dt_in.contiguous(), Bm = Bm_in.contiguous(), Cm = Cm_in.contiguous();
    auto h0 = h0_in.contiguous();
    auto At = A.t().contiguous();
    const auto shape = shape_of(u, A);
    const auto f32 = u.options().dtype(torch::kFloat);
    auto y = torch::empty({shape.batch, shape.steps, shape.channels}, u.options());
    auto last = torch::empty({shape.batch, shape.channels, shape.states}, f32);
    auto checkpoints =
        torch::empty({shape.batch, cuda::scan_chunk_count(shape.steps), shape.states, shape.channels}, f32);
    cuda::ScanForwardArgs args;
    args.shape = shape;
    args.dtype = kernel_dtype(u);
    args.u = u.data_ptr();
    args.dt = dt.data_ptr();
    args.At = At.data_ptr<float>();
    args.Bm = Bm.data_ptr();
    args.Cm = Cm.data_ptr();
    args.h0 = h0.data_ptr<float>();
    args.y = y.data_ptr();
    args.last_state = last.data_ptr<float>();
    args.checkpoints = checkpoints.data_ptr<float>();
    run_launcher([&] { cuda::launch_scan_forward(args, current_stream(u)); });
    ctx->save_for_backward({u, dt, At, Bm, Cm, checkpoints});
    return {y, last};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &u = saved[0], &dt = saved[1], &At = saved[2], &Bm = saved[3], &Cm = saved[4], &checkpoints = saved[5];
    const c10::cuda::CUDAGuard guard(u.device());
    const cuda::ScanShape shape{u.size(0), u.size(1), u.size(2), At.size(0)};
    const auto f32 = u.options().dtype(torch::kFloat);
    // Either gradient may be absent (only y, or only the last state, was used).
    const auto dy = grads[0].defined() ? grads[0].to(u.device(), u.scalar_type()).contiguous() : torch::Tensor();
    const auto dlast = grads[1].defined() ? grads[1].to(u.device(), torch::kFloat).contiguous() : torch::Tensor();
    auto du = torch::empty_like(u), ddt = torch::empty_like(u);
    auto dAt = torch::zeros({shape.states, shape.channels}, f32);
    auto dBm = torch::zeros({shape.batch, shape.steps, shape.states}, f32);
    auto dCm = torch::zeros({shape.batch, shape.steps, shape.states}, f32);
    auto dh0 = torch::empty({shape.batch, shape.channels, shape.states}, f32);
    cuda::ScanBackwardArgs args;
    args.shape = shape;
    args.dtype = kernel_dtype(u);
    args.u = u.data_ptr();
    args.dt = dt.data_ptr();
    args.At = At.data_ptr<float>();
    args.Bm = Bm.data_ptr();
    args.Cm = Cm.data_ptr();
    args.checkpoints = checkpoints.data_ptr<float>();
    args.dy = dy.defined() ? dy.data_ptr() : nullptr;
    args.dlast = dlast.defined() ? dlast.data_ptr<float>() : nullptr;
    args.du = du.data_ptr();
    args.ddt = ddt.data_ptr();
    args.dAt = dAt.data_ptr<float>();
    args.dBm = dBm.data_ptr<float>();
    args.dCm = dCm.data_ptr<float>();
    args.dh0 = dh0.data_ptr<float>();
    run_launcher([&] { cuda::launch_scan_backward(args, current_stream(u)); });
    return {du, ddt, dAt.t().contiguous(), dBm.to(Bm.scalar_type()), dCm.to(Cm.scalar_type()), dh0};
  }
};

}  // namespace

bool cuda_scan_compiled() { return true; }

ScanResult cuda_scan(const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& A, const torch::Tensor& Bm,
                     const torch::Tensor& Cm, const torch::Tensor& h0) {
  check_cuda_inputs(u, dt, A, Bm, Cm, h0);  // before any data_ptr: CUDA tensors on one device, dtypes, N
  auto out = CudaScanFunction::apply(u, dt, A, Bm, Cm, h0);
  return {out[0], out[1]};
}

#else  // a build without CUDA sources

bool cuda_scan_compiled() { return false; }

ScanResult cuda_scan(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                     const torch::Tensor&, const torch::Tensor&) {
  throw Error(StatusCode::InvalidArgument,
              "ssm CUDA scan: this build of memtx has no CUDA scan (built without the CUDA toolkit, MEMTX_WITH_CUDA "
              "off); use attention.ssm_scan=auto or sequential");
}

#endif

}  // namespace memtx::ssm
