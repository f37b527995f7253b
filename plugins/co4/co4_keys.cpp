// co4/co4_keys.cpp: the keys of CO4 attention (latent queries, refinement passes, modulation law, causal form).
#include "co4/co4_keys.hpp"

namespace memtx::co4 {

VariantKeys co4_keys() {
  using VT = ValueType;
  VariantKeys keys;
  keys.options = {
      Option("attention.n_latent", VT::Int, 4).min(1).max(65536).by("co4")
          .doc("Number of learned latent queries in a CO4 layer."),
      Option("attention.triadic_loops", VT::Int, 1).min(1).max(1024).by("co4")
          .doc("Number of CO4 refinement passes over queries, keys and values."),
      Option("attention.mod_fn", VT::String, "cooperation").choices({"cooperation", "tm1", "tm2", "tm3", "tm4"}).by("co4")
          .doc("CO4 modulation MOD(r, c) applied to queries, keys and values in each pass: cooperation = "
               "r^2 + 2r + c(1 + |r|) (the cooperation law of the Co4 reference code), tm1 = r(1 + e^{rc})/2, "
               "tm2 = r + rc, tm3 = r(1 + tanh(rc)), tm4 = 2r^2 c."),
      Option("attention.co4_causal", VT::Bool, true).by("co4")
          .doc("Average CO4 contexts over past tokens only: prefix means give position t its own latent queries, "
               "token t's key and value are modulated by them, and the readout at t sees tokens <= t. false uses the "
               "published whole-sequence averages, which let every position see the future and give every position "
               "the same output."),
  };
  return keys;
}

}  // namespace memtx::co4
