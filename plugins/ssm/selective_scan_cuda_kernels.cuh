// ssm/selective_scan_cuda_kernels.cuh: the device code of the CUDA selective scan, plain CUDA C++ (no torch),
// included by selective_scan_cuda.cu. Contract and memory layouts: selective_scan_cuda.hpp.
//   Forward, per channel c and state n:   h_t = a_t h_{t-1} + dt_t B_t[n] u_t,   a_t = exp(dt_t A[c,n]),
//                                          y_t = sum_n C_t[n] h_t.
//   Backward, with g_t = dL/dh_t (g_T = dlast + C_T dy_T) and running the time steps in reverse:
//     g_t = C_t dy_t + a_{t+1} g_{t+1};   du_t = dt_t sum_n g_t B_t;
//     ddt_t = u_t sum_n g_t B_t + sum_n g_t a_t A h_{t-1};   dA += g_t a_t dt_t h_{t-1};
//     dB_t += sum_c g_t dt_t u_t;   dC_t += sum_c dy_t h_t;   dh0 = a_1 g_1.
// Work split: a block of kThreads threads serves kThreads / G channels of one batch row; each channel has G
// threads (adjacent lanes), the thread with group index q holding the states n = q, q + G, q + 2G, ... (G = 1
// for large batch x channels; 2..8 when there are few channels, for parallelism). The sequence runs in chunks of
// kChunk steps: a chunk's B and C rows are staged in shared memory (float32, transposed to [n][step]), its
// u, dt (and dy) sit in registers, and every state runs through the chunk in a register. The forward stores
// each chunk's starting state (float32 checkpoints). The backward takes the chunks in reverse: per state it
// recomputes the chunk's decays and states from the checkpoint into registers, then runs g backwards through
// them; it multiplies by decays only, never divides by one (exp(dt A) may underflow to 0). Sums over n (y, and
// the du/ddt factors) are partial per thread and combined over the channel's G lanes with shuffles; sums over
// channels (dB, dC) go through a per-warp transpose in shared memory, shared-memory atomics across the block's
// warps, then one global atomicAdd per block, chunk step and state. dA is summed per thread over time and added
// with one atomicAdd per (batch row, channel, state).
// Every thread of a block runs every loop (idle channels and padding states compute zeros), so the barriers and
// shuffles are uniform.
#pragma once
#include <cuda_bf16.h>
#include <vector_types.h>

#include <cstdint>

namespace memtx::ssm::cuda::detail {

constexpr int kThreads = 128;                  // threads per block
constexpr int kWarps = kThreads / 32;
constexpr int kChunk = 16;                     // time steps per chunk (== kScanChunk)
constexpr int kRedRows = 2 * kChunk;           // per-warp transpose rows: dB of each step, then dC of each step
constexpr int kRedStride = 33;                 // padded row (conflict-free column reads)
constexpr int kAccStride = kRedRows + 1;       // block sums [state][row], padded
constexpr float kLog2e = 1.4426950408889634f;  // exp(x) = exp2(x log2 e)
constexpr float kLn2 = 0.6931471805599453f;
static_assert(kRedRows == 32, "one transpose row per lane");
static_assert(kChunk % 4 == 0, "B and C rows are read as float4");

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) { return x; }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

// The work split of one launch: G lanes per channel, J = ceil(N / G) states per thread, Np = J G padded states.
struct Split {
  int states, lanes, per_thread, padded;
  __host__ __device__ static Split of(int states, int lanes) {
    const int per_thread = (states + lanes - 1) / lanes;
    return {states, lanes, per_thread, per_thread * lanes};
  }
  __host__ __device__ int channels_per_block() const { return kThreads / lanes; }
};

// Shared memory, in floats (float4-aligned blocks first).
//   forward:  B [Np][kChunk], C [Np][kChunk], h [J][kThreads]
//   backward: B, C as above, acc [Np][kAccStride], g [J][kThreads], dA [J][kThreads], red [kWarps][32][33]
__host__ __device__ inline int forward_shared_floats(const Split& s) {
  return 2 * s.padded * kChunk + s.per_thread * kThreads;
}
__host__ __device__ inline int backward_shared_floats(const Split& s) {
  return 2 * s.padded * kChunk + s.padded * kAccStride + 2 * s.per_thread * kThreads + kWarps * kRedRows * kRedStride;
}

template <typename T>
struct ForwardParams {
  const T *u, *dt;           // [B, T, C]
  const float* At;           // [N, C]
  const T *Bm, *Cm;          // [B, T, N]
  const float* h0;           // [B, C, N]
  T* y;                      // [B, T, C]
  float* last;               // [B, C, N]
  float* checkpoints;        // [B, chunks, N, C]: the state before each chunk
  int64_t batch, steps, channels, chunks;
  Split split;
};

template <typename T>
struct BackwardParams {
  const T *u, *dt;
  const float* At;
  const T *Bm, *Cm;
  const float* checkpoints;
  const T* dy;               // [B, T, C] or null (no gradient on y)
  const float* dlast;        // [B, C, N] or null (no gradient on the last state)
  T *du, *ddt;               // [B, T, C]
  float* dAt;                // [N, C], zeroed by the caller, atomically summed
  float *dBm, *dCm;          // [B, T, N], zeroed by the caller, atomically summed
  float* dh0;                // [B, C, N]
  int64_t batch, steps, channels, chunks;
  Split split;
};

// Where a thread sits: batch row b, channel c (valid when active), group index q (its states q + jG).
struct Place {
  int tid, lane, warp, q;
  int64_t b, c;
  bool active;
  __device__ static Place of(int tid, int block_x, int64_t b, int64_t channels, const Split& s) {
    const int per_block = s.channels_per_block();
    const int64_t c = int64_t(block_x) * per_block + tid / s.lanes;
    return {tid, tid & 31, tid >> 5, tid % s.lanes, b, c, c < channels};
  }
};

// dst[n][i] = src[b, t0 + i, n] as float for i < len and n < N; zero for the padding steps and states.
template <typename T>
__device__ void stage_rows(const T* __restrict__ src, float* __restrict__ dst, int64_t b, int64_t steps, int64_t t0,
                           int len, const Split& s, int tid) {
  const int N = s.states;
  const T* base = src + (b * steps + t0) * N;
  for (int e = tid; e < kChunk * s.padded; e += kThreads) {
    const int i = e / s.padded, n = e - i * s.padded;
    dst[n * kChunk + i] = (i < len && n < N) ? to_float(base[int64_t(i) * N + n]) : 0.f;
  }
}

// Sums v over the channel's G adjacent lanes (every lane gets the sum).
__device__ __forceinline__ float group_sum(float v, int lanes) {
  for (int off = 1; off < lanes; off <<= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

// Splits a float4 into an indexable (register) array.
struct Four {
  float v[4];
  __device__ explicit Four(const float4& f) : v{f.x, f.y, f.z, f.w} {}
};

template <typename T>
__device__ void forward_block(const ForwardParams<T>& p, float* smem, int tid, int block_x, int64_t b) {
  const Split& s = p.split;
  const int N = s.states, G = s.lanes;
  const int64_t T_ = p.steps, C = p.channels;
  const Place at = Place::of(tid, block_x, b, C, s);
  float* sB = smem;
  float* sC = sB + s.padded * kChunk;
  float* sH = sC + s.padded * kChunk;  // [J][kThreads]
  for (int j = 0; j < s.per_thread; ++j) {
    const int n = at.q + j * G;
    sH[j * kThreads + tid] = (at.active && n < N) ? p.h0[(b * C + at.c) * N + n] : 0.f;
  }
  for (int64_t k = 0; k < p.chunks; ++k) {
    const int64_t t0 = k * kChunk;
    const int len = int(T_ - t0 < kChunk ? T_ - t0 : kChunk);
    __syncthreads();  // the previous chunk is done with sB, sC
    stage_rows(p.Bm, sB, b, T_, t0, len, s, tid);
    stage_rows(p.Cm, sC, b, T_, t0, len, s, tid);
    float dt[kChunk], dtu[kChunk], y[kChunk];
#pragma unroll
    for (int i = 0; i < kChunk; ++i) {
      float uv = 0.f, dv = 0.f;  // padding steps: dt = 0 leaves h unchanged
      if (at.active && i < len) {
        const int64_t idx = (b * T_ + t0 + i) * C + at.c;
        uv = to_float(p.u[idx]);
        dv = to_float(p.dt[idx]);
      }
      dt[i] = dv;
      dtu[i] = dv * uv;
      y[i] = 0.f;
    }
    __syncthreads();
    for (int j = 0; j < s.per_thread; ++j) {
      const int n = at.q + j * G;
      const bool real = at.active && n < N;
      const float a2 = real ? p.At[int64_t(n) * C + at.c] * kLog2e : 0.f;
      float h = sH[j * kThreads + tid];
      if (real) p.checkpoints[((b * p.chunks + k) * N + n) * C + at.c] = h;
      const float4* b4 = reinterpret_cast<const float4*>(sB + n * kChunk);
      const float4* c4 = reinterpret_cast<const float4*>(sC + n * kChunk);
#pragma unroll
      for (int f = 0; f < kChunk / 4; ++f) {
        const Four bq(b4[f]), cq(c4[f]);
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int i = 4 * f + e;
          h = fmaf(exp2f(dt[i] * a2), h, dtu[i] * bq.v[e]);
          y[i] = fmaf(cq.v[e], h, y[i]);
        }
      }
      sH[j * kThreads + tid] = h;
    }
#pragma unroll
    for (int i = 0; i < kChunk; ++i) {
      const float total = group_sum(y[i], G);
      if (at.active && at.q == 0 && i < len) p.y[(b * T_ + t0 + i) * C + at.c] = from_float<T>(total);
    }
  }
  for (int j = 0; j < s.per_thread; ++j) {
    const int n = at.q + j * G;
    if (at.active && n < N) p.last[(b * C + at.c) * N + n] = sH[j * kThreads + tid];
  }
}

template <typename T>
__device__ void backward_block(const BackwardParams<T>& p, float* smem, int tid, int block_x, int64_t b) {
  const Split& s = p.split;
  const int N = s.states, G = s.lanes;
  const int64_t T_ = p.steps, C = p.channels;
  const Place at = Place::of(tid, block_x, b, C, s);
  float* sB = smem;
  float* sC = sB + s.padded * kChunk;
  float* sAcc = sC + s.padded * kChunk;       // [Np][kAccStride]: rows 0..K-1 dB of step i, K..2K-1 dC
  float* sG = sAcc + s.padded * kAccStride;   // [J][kThreads]: g carried between chunks
  float* sDA = sG + s.per_thread * kThreads;  // [J][kThreads]: dA summed over time
  float* red = sDA + s.per_thread * kThreads + at.warp * kRedRows * kRedStride;  // this warp's [32][33]
  for (int j = 0; j < s.per_thread; ++j) {
    const int n = at.q + j * G;
    sG[j * kThreads + tid] = (p.dlast && at.active && n < N) ? p.dlast[(b * C + at.c) * N + n] : 0.f;
    sDA[j * kThreads + tid] = 0.f;
  }
  for (int e = tid; e < s.padded * kAccStride; e += kThreads) sAcc[e] = 0.f;

  for (int64_t k = p.chunks - 1; k >= 0; --k) {
    const int64_t t0 = k * kChunk;
    const int len = int(T_ - t0 < kChunk ? T_ - t0 : kChunk);
    __syncthreads();  // the previous chunk's flush is done with sAcc, and everyone with sB, sC
    stage_rows(p.Bm, sB, b, T_, t0, len, s, tid);
    stage_rows(p.Cm, sC, b, T_, t0, len, s, tid);
    float u[kChunk], dt[kChunk], dy[kChunk], gb[kChunk], gah[kChunk];
#pragma unroll
    for (int i = 0; i < kChunk; ++i) {
      float uv = 0.f, dv = 0.f, gv = 0.f;  // padding steps: dt = 0 and dy = 0 contribute nothing
      if (at.active && i < len) {
        const int64_t idx = (b * T_ + t0 + i) * C + at.c;
        uv = to_float(p.u[idx]);
        dv = to_float(p.dt[idx]);
        if (p.dy) gv = to_float(p.dy[idx]);
      }
      u[i] = uv;
      dt[i] = dv;
      dy[i] = gv;
      gb[i] = 0.f;   // sum_n g_t B_t[n]
      gah[i] = 0.f;  // sum_n g_t a_t (A log2 e) h_{t-1}
    }
    __syncthreads();
    for (int j = 0; j < s.per_thread; ++j) {
      const int n = at.q + j * G;
      const bool real = at.active && n < N;
      const float a2 = real ? p.At[int64_t(n) * C + at.c] * kLog2e : 0.f;
      const float h_start = real ? p.checkpoints[((b * p.chunks + k) * N + n) * C + at.c] : 0.f;
      const float4* b4 = reinterpret_cast<const float4*>(sB + n * kChunk);
      const float4* c4 = reinterpret_cast<const float4*>(sC + n * kChunk);
      float a[kChunk], h[kChunk];  // the chunk's decays and states, recomputed from the checkpoint
      float hv = h_start;
#pragma unroll
      for (int f = 0; f < kChunk / 4; ++f) {
        const Four bq(b4[f]);
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int i = 4 * f + e;
          a[i] = exp2f(dt[i] * a2);
          hv = fmaf(a[i], hv, dt[i] * u[i] * bq.v[e]);
          h[i] = hv;
        }
      }
      float g = sG[j * kThreads + tid];  // a_{t+1} g_{t+1} for the chunk's last step t
      float dA = 0.f;
#pragma unroll
      for (int f = kChunk / 4 - 1; f >= 0; --f) {
        const Four bq(b4[f]), cq(c4[f]);
#pragma unroll
        for (int e = 3; e >= 0; --e) {
          const int i = 4 * f + e;
          g = fmaf(cq.v[e], dy[i], g);                 // g_t
          const float h_prev = i > 0 ? h[i - 1] : h_start;
          const float gah_n = g * a[i] * h_prev;       // g_t a_t h_{t-1}
          gah[i] = fmaf(gah_n, a2, gah[i]);
          dA = fmaf(gah_n, dt[i], dA);
          gb[i] = fmaf(g, bq.v[e], gb[i]);
          red[i * kRedStride + at.lane] = g * (dt[i] * u[i]);     // this lane's dB_t[n] term
          red[(kChunk + i) * kRedStride + at.lane] = dy[i] * h[i];  // this lane's dC_t[n] term
          g *= a[i];                                   // a_t g_t: the carry into step t - 1
        }
      }
      sG[j * kThreads + tid] = g;
      sDA[j * kThreads + tid] += dA;
      // Transpose: lane r sums row r over the warp's channels, separately for each group index (state).
      __syncwarp();
      for (int q = 0; q < G; ++q) {
        float sum = 0.f;
        for (int l = q; l < 32; l += G) sum += red[at.lane * kRedStride + l];
        atomicAdd(&sAcc[(q + j * G) * kAccStride + at.lane], sum);
      }
      __syncwarp();  // the rows are read before the next state overwrites them
    }
#pragma unroll
    for (int i = 0; i < kChunk; ++i) {
      const float sum_gb = group_sum(gb[i], G), sum_gah = group_sum(gah[i], G);
      if (at.active && at.q == 0 && i < len) {
        const int64_t idx = (b * T_ + t0 + i) * C + at.c;
        p.du[idx] = from_float<T>(dt[i] * sum_gb);
        p.ddt[idx] = from_float<T>(fmaf(u[i], sum_gb, kLn2 * sum_gah));
      }
    }
    __syncthreads();  // every warp's block sums are in sAcc
    for (int e = tid; e < kRedRows * N; e += kThreads) {
      const int r = e / N, n = e - r * N, i = r % kChunk;
      float* slot = &sAcc[n * kAccStride + r];
      if (i < len) atomicAdd(&(r < kChunk ? p.dBm : p.dCm)[(b * T_ + t0 + i) * N + n], *slot);
      *slot = 0.f;
    }
  }
  for (int j = 0; j < s.per_thread; ++j) {
    const int n = at.q + j * G;
    if (at.active && n < N) {
      p.dh0[(b * C + at.c) * N + n] = sG[j * kThreads + tid];
      atomicAdd(&p.dAt[int64_t(n) * C + at.c], sDA[j * kThreads + tid]);
    }
  }
}

}  // namespace memtx::ssm::cuda::detail
