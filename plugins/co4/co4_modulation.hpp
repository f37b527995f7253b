// co4/co4_modulation.hpp: the MOD transfer functions of CO4 (attention.mod_fn). r is the receptive field (the
// quantity being modulated), c its context; both apply elementwise and broadcast.
//   cooperation  MOD(r, c) = r^2 + 2 r + c (1 + |r|)      the cooperation law of Adeel's Co4 reference
//                                                         (ARIA-Funded-TREND/HMS); no clamp is applied
//   tm1          MOD(r, c) = r (1 + e^{r c}) / 2
//   tm2          MOD(r, c) = r + r c
//   tm3          MOD(r, c) = r (1 + tanh(r c))
//   tm4          MOD(r, c) = 2 r^2 c
#pragma once
#include <torch/torch.h>

#include <string>

namespace memtx::co4 {

enum class ModFn { Cooperation, Tm1, Tm2, Tm3, Tm4 };

// "cooperation", "tm1", ... -> ModFn; Error(Config) naming attention.mod_fn and the allowed names otherwise.
ModFn parse_mod_fn(const std::string& name);

torch::Tensor modulate(ModFn fn, const torch::Tensor& r, const torch::Tensor& c);

}  // namespace memtx::co4
