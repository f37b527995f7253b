// linear/linear_scan.cpp: the chunked causal linear attention (equations in linear_scan.hpp).
#include "linear_scan.hpp"

#include <algorithm>

namespace memtx::linear {

LinearScanResult linear_attention_chunked(const torch::Tensor& phi_q, const torch::Tensor& phi_k,
                                          const torch::Tensor& v, const torch::Tensor& S0, const torch::Tensor& z0,
                                          int64_t chunk) {
  const int64_t B = phi_q.size(0), H = phi_q.size(1), T = phi_q.size(2), dk = phi_q.size(3);
  const int64_t G = phi_k.size(1), dv = v.size(3), r = H / G;
  if (T == 0) return {torch::zeros({B, H, 0, dv}, v.options()), S0, z0};
  const int64_t C = std::min(chunk, T), nc = (T + C - 1) / C, pad = nc * C - T;
  auto fq = phi_q, fk = phi_k, vv = v;
  if (pad > 0) {
    // Padded keys have phi = 0 and value 0: they add nothing to any state or output.
    fq = torch::constant_pad_nd(fq, {0, 0, 0, pad});
    fk = torch::constant_pad_nd(fk, {0, 0, 0, pad});
    vv = torch::constant_pad_nd(vv, {0, 0, 0, pad});
  }
  auto q = fq.reshape({B, G, r, nc, C, dk});
  auto k = fk.reshape({B, G, nc, C, dk});
  auto val = vv.reshape({B, G, nc, C, dv});

  auto kv = torch::matmul(k.transpose(-2, -1), val);  // [B, G, nc, d_k, d_v]
  auto ks = k.sum(3);                                  // [B, G, nc, d_k]
  auto S_before = torch::cat({S0.unsqueeze(2), kv.narrow(2, 0, nc - 1)}, 2).cumsum(2);
  auto z_before = torch::cat({z0.unsqueeze(2), ks.narrow(2, 0, nc - 1)}, 2).cumsum(2);

  auto num = torch::matmul(q, S_before.unsqueeze(2));                         // [B, G, r, nc, C, d_v]
  auto den = torch::matmul(q, z_before.unsqueeze(2).unsqueeze(-1));           // [B, G, r, nc, C, 1]
  auto mask = torch::ones({C, C}, q.options()).tril();
  auto A = torch::matmul(q, k.unsqueeze(2).transpose(-2, -1)) * mask;        // [B, G, r, nc, C, C]
  num = num + torch::matmul(A, val.unsqueeze(2));
  den = den + A.sum(-1, /*keepdim=*/true);
  auto out = (num / (den + kLinearEps)).reshape({B, H, nc * C, dv}).narrow(2, 0, T);

  auto S = S_before.select(2, nc - 1) + kv.select(2, nc - 1);
  auto z = z_before.select(2, nc - 1) + ks.select(2, nc - 1);
  return {out, S, z};
}

}  // namespace memtx::linear
