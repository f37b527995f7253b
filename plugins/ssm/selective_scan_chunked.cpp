// ssm/selective_scan_chunked.cpp: the fast CPU scan (contract in selective_scan.hpp).
// Layout: channels innermost, so every inner loop runs over a block of channels with no reduction and
// vectorises: h is kept as [B, N, C], a chunk's decays exp(dt_t A) as [B, L, N, C] (one vectorised tensor op
// per chunk), u/dt/y stay [B, T, C]. Tasks are (batch, block of channels), run in parallel.
// Forward, per step t and state n:  h[n,:] = a_t[n,:] * h[n,:] + (dt_t u_t)[:] B_t[n];  y_t[:] += C_t[n] h[n,:].
// Only h at each chunk's start is stored. Backward runs the chunks in reverse: it recomputes the chunk's states
// from its stored start, then, with g = dL/dh_t from the later steps plus dy_t C_t:
//   du_t = dt_t (g . B_t),  ddt_t = u_t (g . B_t) + sum_n g_n h_{t-1,n} a_{t,n} A_n,
//   dA_n += g_n h_{t-1,n} a_{t,n} dt_t,  g <- g * a_t for step t-1;
// dB_t = sum_c g (dt u)_t and dC_t = sum_c dy_t h_t are summed per block of channels, then over the blocks.
// Nothing divides by a decay.
#include <ATen/Parallel.h>
#include <memtx/error.hpp>

#include <algorithm>

#include "selective_scan.hpp"

namespace memtx::ssm {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int64_t kBlock = 64;  // channels per task (and the size of the per-task scratch arrays)

// Shapes and raw pointers of the inputs: u, dt [B, T, C]; Bm, Cm [B, T, N]; At = A transposed [N, C].
template <typename scalar_t>
struct ScanInputs {
  const scalar_t *u, *dt, *At, *Bm, *Cm;
  int64_t batch, steps, channels, states;
};

template <typename scalar_t>
ScanInputs<scalar_t> inputs_of(const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& At,
                               const torch::Tensor& Bm, const torch::Tensor& Cm) {
  return {u.data_ptr<scalar_t>(), dt.data_ptr<scalar_t>(), At.data_ptr<scalar_t>(), Bm.data_ptr<scalar_t>(),
          Cm.data_ptr<scalar_t>(), u.size(0), u.size(1), u.size(2), At.size(0)};
}

// decay[:, :len] = exp(dt_t A) for steps t0 .. t0+len-1, into the reused [B, chunk, N, C] buffer.
void fill_decays(torch::Tensor& decay, const torch::Tensor& dt, const torch::Tensor& At, int64_t t0, int64_t len) {
  auto block = decay.narrow(1, 0, len);
  at::mul_out(block, dt.narrow(1, t0, len).unsqueeze(2), At);
  block.exp_();
}

// Runs f(b, c0, c1) for every batch row and block of channels, in parallel.
template <typename F>
void for_each_block(int64_t batch, int64_t channels, const F& f) {
  const int64_t blocks = (channels + kBlock - 1) / kBlock;
  at::parallel_for(0, batch * blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / blocks, c0 = (task % blocks) * kBlock;
      f(b, c0, std::min(channels, c0 + kBlock));
    }
  });
}

// h = a * h + dtu * bn ;  y += cn * h   (over w channels)
template <typename scalar_t>
inline void forward_step(scalar_t* __restrict h, scalar_t* __restrict y, const scalar_t* __restrict a,
                         const scalar_t* __restrict dtu, scalar_t bn, scalar_t cn, int64_t w) {
  for (int64_t j = 0; j < w; ++j) {
    h[j] = a[j] * h[j] + dtu[j] * bn;
    y[j] += cn * h[j];
  }
}

// Forward over steps t0 .. t0+len-1 (decay holds their decays, row stride `chunk`): h [B, N, C] in/out,
// y [B, T, C] written.
template <typename scalar_t>
void forward_chunk(const ScanInputs<scalar_t>& in, const scalar_t* decay, int64_t chunk, int64_t t0, int64_t len,
                   scalar_t* h, scalar_t* y) {
  const int64_t T = in.steps, C = in.channels, N = in.states;
  for_each_block(in.batch, C, [&](int64_t b, int64_t c0, int64_t c1) {
    const int64_t w = c1 - c0;
    scalar_t dtu[kBlock];
    for (int64_t i = 0; i < len; ++i) {
      const int64_t bt = b * T + t0 + i;
      for (int64_t j = 0; j < w; ++j) dtu[j] = in.dt[bt * C + c0 + j] * in.u[bt * C + c0 + j];
      scalar_t* yt = y + bt * C + c0;
      std::fill(yt, yt + w, scalar_t(0));
      for (int64_t n = 0; n < N; ++n) {
        forward_step(h + (b * N + n) * C + c0, yt, decay + ((b * chunk + i) * N + n) * C + c0, dtu,
                     in.Bm[bt * N + n], in.Cm[bt * N + n], w);
      }
    }
  });
}

// Buffers of one chunk's backward pass ([B, chunk, N, C] ones use row stride `chunk`).
template <typename scalar_t>
struct BackwardBuffers {
  const scalar_t* start;  // [B, N, C]  h before the chunk
  const scalar_t* dy;     // [B, T, C]
  scalar_t* g;            // [B, N, C]  in: dL/dh after the chunk's last step's own terms; out: dL/dh before it
  scalar_t* states;       // [B, chunk, N, C]  recomputed h_t
  scalar_t* dB_parts;     // [B, blocks, T, N]  dB_t summed over each block's channels
  scalar_t* dC_parts;     // [B, blocks, T, N]  dC_t likewise
  scalar_t* du;           // [B, T, C]
  scalar_t* ddt;          // [B, T, C]
  scalar_t* dAt;          // [B, N, C]  accumulated; summed over the batch afterwards
};

// sum_j x[j] y[j] with eight independent partial sums (so that it vectorises without reassociation flags).
template <typename scalar_t>
inline scalar_t dot(const scalar_t* __restrict x, const scalar_t* __restrict y, int64_t w) {
  scalar_t part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 8 <= w; j += 8)
    for (int k = 0; k < 8; ++k) part[k] += x[j + k] * y[j + k];
  scalar_t sum = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
  for (; j < w; ++j) sum += x[j] * y[j];
  return sum;
}

// One step t, one state n, over w channels: total = g + dy cn is dL/dh_t; g becomes dL/dh_{t-1}.
template <typename scalar_t>
inline void backward_step(scalar_t* __restrict g, scalar_t* __restrict total_out, scalar_t* __restrict g_dot_b,
                          scalar_t* __restrict dlog, scalar_t* __restrict dA, const scalar_t* __restrict hprev,
                          const scalar_t* __restrict a, const scalar_t* __restrict A, const scalar_t* __restrict dy,
                          const scalar_t* __restrict dt, scalar_t bn, scalar_t cn, int64_t w) {
  for (int64_t j = 0; j < w; ++j) {
    const scalar_t total = g[j] + dy[j] * cn;
    total_out[j] = total;
    g_dot_b[j] += total * bn;
    const scalar_t q = total * hprev[j] * a[j];  // dL/d(dt A)
    dlog[j] += q * A[j];
    dA[j] += q * dt[j];
    g[j] = total * a[j];
  }
}

template <typename scalar_t>
void backward_chunk(const ScanInputs<scalar_t>& in, const scalar_t* decay, int64_t chunk, int64_t t0, int64_t len,
                    const BackwardBuffers<scalar_t>& io) {
  const int64_t T = in.steps, C = in.channels, N = in.states;
  const int64_t blocks = (C + kBlock - 1) / kBlock;
  for_each_block(in.batch, C, [&](int64_t b, int64_t c0, int64_t c1) {
    const int64_t w = c1 - c0, part = (b * blocks + c0 / kBlock) * T;  // row of this block's dB/dC parts
    scalar_t dtu[kBlock], g_dot_b[kBlock], dlog[kBlock], total[kBlock];
    auto row_of = [&](const scalar_t* base, int64_t i, int64_t n) { return base + ((b * chunk + i) * N + n) * C + c0; };
    auto state = [&](int64_t i, int64_t n) -> const scalar_t* {
      return i >= 0 ? row_of(io.states, i, n) : io.start + (b * N + n) * C + c0;
    };
    for (int64_t i = 0; i < len; ++i) {  // recompute h_t of the chunk
      const int64_t bt = b * T + t0 + i;
      for (int64_t j = 0; j < w; ++j) dtu[j] = in.dt[bt * C + c0 + j] * in.u[bt * C + c0 + j];
      for (int64_t n = 0; n < N; ++n) {
        const scalar_t *a = row_of(decay, i, n), *prev = state(i - 1, n);
        scalar_t* h = io.states + ((b * chunk + i) * N + n) * C + c0;
        const scalar_t bn = in.Bm[bt * N + n];
        for (int64_t j = 0; j < w; ++j) h[j] = a[j] * prev[j] + dtu[j] * bn;
      }
    }
    for (int64_t i = len - 1; i >= 0; --i) {
      const int64_t bt = b * T + t0 + i;
      std::fill(g_dot_b, g_dot_b + w, scalar_t(0));
      std::fill(dlog, dlog + w, scalar_t(0));
      const scalar_t *dy = io.dy + bt * C + c0, *dt = in.dt + bt * C + c0, *u = in.u + bt * C + c0;
      for (int64_t j = 0; j < w; ++j) dtu[j] = dt[j] * u[j];
      for (int64_t n = 0; n < N; ++n) {
        backward_step(io.g + (b * N + n) * C + c0, total, g_dot_b, dlog, io.dAt + (b * N + n) * C + c0,
                      state(i - 1, n), row_of(decay, i, n), in.At + n * C + c0, dy, dt, in.Bm[bt * N + n],
                      in.Cm[bt * N + n], w);
        io.dB_parts[(part + t0 + i) * N + n] = dot(total, dtu, w);
        io.dC_parts[(part + t0 + i) * N + n] = dot(state(i, n), dy, w);
      }
      for (int64_t j = 0; j < w; ++j) {
        io.du[bt * C + c0 + j] = dt[j] * g_dot_b[j];
        io.ddt[bt * C + c0 + j] = u[j] * g_dot_b[j] + dlog[j];
      }
    }
  });
}

template <typename F>
void dispatch_floating(torch::ScalarType type, F&& body) {
  if (type == torch::kFloat) body(float{});
  else if (type == torch::kDouble) body(double{});
  else throw Error(StatusCode::InvalidArgument, std::string("ssm chunked scan: dtype ") + c10::toString(type) +
                                                    " is not supported (float32 or float64)");
}

struct ChunkedScanFunction : public torch::autograd::Function<ChunkedScanFunction> {
  static variable_list forward(AutogradContext* ctx, torch::Tensor u, torch::Tensor dt, torch::Tensor A,
                               torch::Tensor Bm, torch::Tensor Cm, torch::Tensor h0, int64_t chunk) {
    u = u.contiguous();
    dt = dt.contiguous();
    Bm = Bm.contiguous();
    Cm = Cm.contiguous();
    auto At = A.t().contiguous();
    const int64_t B = u.size(0), T = u.size(1), C = u.size(2), N = A.size(1);
    const int64_t chunks = (T + chunk - 1) / chunk, rows = std::min(chunk, T);
    auto h = h0.transpose(1, 2).contiguous();  // [B, N, C]
    auto starts = torch::empty({chunks, B, N, C}, u.options());
    auto y = torch::empty({B, T, C}, u.options());
    auto decay = torch::empty({B, rows, N, C}, u.options());
    dispatch_floating(u.scalar_type(), [&](auto tag) {
      using scalar_t = decltype(tag);
      const auto in = inputs_of<scalar_t>(u, dt, At, Bm, Cm);
      for (int64_t k = 0; k < chunks; ++k) {
        const int64_t t0 = k * chunk, len = std::min(chunk, T - t0);
        starts[k].copy_(h);
        fill_decays(decay, dt, At, t0, len);
        forward_chunk<scalar_t>(in, decay.data_ptr<scalar_t>(), rows, t0, len, h.data_ptr<scalar_t>(),
                                y.data_ptr<scalar_t>());
      }
    });
    ctx->save_for_backward({u, dt, A, Bm, Cm});
    ctx->saved_data["starts"] = starts;
    ctx->saved_data["chunk"] = chunk;
    return {y, h.transpose(1, 2).contiguous()};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto &u = saved[0], &dt = saved[1], &A = saved[2], &Bm = saved[3], &Cm = saved[4];
    auto At = A.t().contiguous();
    auto starts = ctx->saved_data["starts"].toTensor();
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    const int64_t B = u.size(0), T = u.size(1), C = u.size(2), N = A.size(1);
    const int64_t chunks = (T + chunk - 1) / chunk, rows = std::min(chunk, T);
    auto opts = u.options();
    auto dy = grads[0].defined() ? grads[0].contiguous() : torch::zeros({B, T, C}, opts);
    auto g = grads[1].defined() ? grads[1].transpose(1, 2).contiguous() : torch::zeros({B, N, C}, opts);
    auto du = torch::empty({B, T, C}, opts), ddt = torch::empty({B, T, C}, opts);
    auto dAt = torch::zeros({B, N, C}, opts);
    const int64_t blocks = (C + kBlock - 1) / kBlock;
    auto dB_parts = torch::empty({B, blocks, T, N}, opts), dC_parts = torch::empty({B, blocks, T, N}, opts);
    auto decay = torch::empty({B, rows, N, C}, opts), states = torch::empty({B, rows, N, C}, opts);
    dispatch_floating(u.scalar_type(), [&](auto tag) {
      using scalar_t = decltype(tag);
      const auto in = inputs_of<scalar_t>(u, dt, At, Bm, Cm);
      for (int64_t k = chunks - 1; k >= 0; --k) {
        const int64_t t0 = k * chunk, len = std::min(chunk, T - t0);
        fill_decays(decay, dt, At, t0, len);
        auto start = starts[k];
        const BackwardBuffers<scalar_t> io{start.data_ptr<scalar_t>(),    dy.data_ptr<scalar_t>(),
                                           g.data_ptr<scalar_t>(),        states.data_ptr<scalar_t>(),
                                           dB_parts.data_ptr<scalar_t>(), dC_parts.data_ptr<scalar_t>(),
                                           du.data_ptr<scalar_t>(),       ddt.data_ptr<scalar_t>(),
                                           dAt.data_ptr<scalar_t>()};
        backward_chunk<scalar_t>(in, decay.data_ptr<scalar_t>(), rows, t0, len, io);
      }
    });
    return {du, ddt, dAt.sum(0).t().contiguous(), dB_parts.sum(1), dC_parts.sum(1), g.transpose(1, 2).contiguous(),
            torch::Tensor()};
  }
};

}  // namespace

ScanResult chunked_scan(const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& A,
                        const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& h0, int64_t chunk) {
  check_scan_inputs(u, dt, A, Bm, Cm, h0);
  if (!u.device().is_cpu()) {
    throw Error(StatusCode::InvalidArgument,
                "attention.ssm_scan: the chunked scan runs on CPU tensors (and as the CUDA kernel on CUDA tensors), "
                "got a tensor on " + u.device().str() + " (use auto or sequential there)");
  }
  if (chunk < 1) throw Error(StatusCode::InvalidArgument, "ssm chunked scan: chunk length must be >= 1, got " + std::to_string(chunk));
  auto out = ChunkedScanFunction::apply(u, dt, A, Bm, Cm, h0, chunk);
  return {out[0], out[1]};
}

}  // namespace memtx::ssm
