// co4/co4_modulation.cpp: the MOD transfer functions; equations in co4_modulation.hpp.
#include "co4_modulation.hpp"

#include <memtx/error.hpp>

namespace memtx::co4 {

ModFn parse_mod_fn(const std::string& name) {
  if (name == "cooperation") return ModFn::Cooperation;
  if (name == "tm1") return ModFn::Tm1;
  if (name == "tm2") return ModFn::Tm2;
  if (name == "tm3") return ModFn::Tm3;
  if (name == "tm4") return ModFn::Tm4;
  throw Error(StatusCode::Config, "co4: attention.mod_fn '" + name +
                                      "' is not a modulation function; expected cooperation, tm1, tm2, tm3 or tm4");
}

torch::Tensor modulate(ModFn fn, const torch::Tensor& r, const torch::Tensor& c) {
  switch (fn) {
    case ModFn::Cooperation:
      return r * r + 2 * r + c * (1 + r.abs());
    case ModFn::Tm1:
      return 0.5 * r * (1 + torch::exp(r * c));
    case ModFn::Tm2:
      return r + r * c;
    case ModFn::Tm3:
      return r * (1 + torch::tanh(r * c));
    case ModFn::Tm4:
      return 2 * r * r * c;
  }
  throw Error(StatusCode::Internal, "co4: unhandled modulation function");
}

}  // namespace memtx::co4
