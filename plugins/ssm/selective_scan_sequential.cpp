// ssm/selective_scan_sequential.cpp: the reference scan, one time step per iteration (contract and
// equations in selective_scan.hpp). The discretised decay exp(dt A) and input dt B u are formed for all
// steps at once; the loop then only does h = a_t * h + b_t, as Hugging Face's torch path does. Autograd
// differentiates it as written.
#include "selective_scan.hpp"

namespace memtx::ssm {

ScanResult sequential_scan(const torch::Tensor& u, const torch::Tensor& dt, const torch::Tensor& A,
                           const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& h0) {
  check_scan_inputs(u, dt, A, Bm, Cm, h0);
  const int64_t T = u.size(1);
  auto decay = torch::exp(dt.unsqueeze(-1) * A);                  // [B, T, C, N]
  auto input = (dt * u).unsqueeze(-1) * Bm.unsqueeze(2);          // [B, T, C, N]
  // unbind, not select: its backward is one stack, where T selects would each scatter into a full-size zero
  // tensor (quadratic in T).
  const auto decays = decay.unbind(1), inputs = input.unbind(1);
  torch::Tensor h = h0;
  std::vector<torch::Tensor> states;
  states.reserve(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) {
    h = decays[t] * h + inputs[t];
    states.push_back(h);
  }
  if (T == 0) return {torch::zeros_like(u), h0};
  auto y = (torch::stack(states, 1) * Cm.unsqueeze(2)).sum(-1);  // [B, T, C]
  return {y, h};
}

}  // namespace memtx::ssm
