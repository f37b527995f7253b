// ssm/ssm_mixer_init.cpp: the reference initialisation of the Mamba mixer.
//   in_proj, x_proj, out_proj: N(0, init_std), biases 0.   conv1d: U(-1/sqrt(k), 1/sqrt(k)) (weight, bias).
//   dt_proj.weight: U(-dt_rank^-1/2, dt_rank^-1/2).   dt ~ exp(U(log 1e-3, log 1e-1)), floored at 1e-4, and
//   dt_proj.bias = softplus^-1(dt) = dt + log(1 - exp(-dt)), so that softplus(bias) starts at dt.
//   A_log[c, n] = log(n + 1) (A = -(1..d_state) in every channel).   D = 1.
#include <cmath>

#include "ssm_mixer.hpp"

namespace memtx::ssm {

void SsmMixerImpl::reset_parameters(double init_std) {
  torch::NoGradGuard no_grad;
  for (auto* linear : {&in_proj, &x_proj, &out_proj}) {
    (*linear)->weight.normal_(0.0, init_std);
    if ((*linear)->bias.defined()) (*linear)->bias.zero_();
  }
  const double conv_bound = 1.0 / std::sqrt(double(opt_.conv_kernel));
  conv1d->weight.uniform_(-conv_bound, conv_bound);
  conv1d->bias.uniform_(-conv_bound, conv_bound);

  const double dt_bound = 1.0 / std::sqrt(double(opt_.dt_rank));
  dt_proj->weight.uniform_(-dt_bound, dt_bound);
  const double dt_min = 1e-3, dt_max = 1e-1, dt_floor = 1e-4;
  auto unit = torch::rand({opt_.d_inner}, torch::kDouble);
  auto dt = torch::exp(unit * (std::log(dt_max) - std::log(dt_min)) + std::log(dt_min)).clamp_min(dt_floor);
  dt_proj->bias.copy_(dt + torch::log(-torch::expm1(-dt)));

  A_log.copy_(torch::log(torch::arange(1, opt_.d_state + 1, torch::kDouble)).expand({opt_.d_inner, opt_.d_state}));
  D.fill_(1.0);
}

}  // namespace memtx::ssm
