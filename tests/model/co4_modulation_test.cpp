// Each CO4 modulation function (attention.mod_fn) against its closed form, through the module on a hand-built
// input: one token, one head, diagonal Wk = diag(a), Wv = diag(b), Wo = I, two latents. With one token the
// readout weight is 1, so per channel the output is the final value:
//   k = a x, v = b x, c_q = (k + v)/2, q_l = MOD(q0_l, c_q), qbar = (q_1 + q_2)/2,
//   k' = MOD(k, (qbar + v)/2), y = v' = MOD(v, (qbar + k')/2).
#include <cmath>

#include "test_support.hpp"

namespace memtx::test {
namespace {

double closed_form(const std::string& fn, double r, double c) {
  if (fn == "cooperation") return r * r + 2 * r + c * (1 + std::fabs(r));
  if (fn == "tm1") return r * (1 + std::exp(r * c)) / 2;
  if (fn == "tm2") return r + r * c;
  if (fn == "tm3") return r * (1 + std::tanh(r * c));
  if (fn == "tm4") return 2 * r * r * c;
  ADD_FAILURE() << fn;
  return 0;
}

TEST(Co4Modulation, EachFunctionMatchesItsClosedForm) {
  const std::vector<double> a = {0.9, -0.6, 1.3, 0.4}, b = {0.7, 1.1, -0.8, 0.5}, x = {0.8, -0.4, 1.2, -1.5};
  const std::vector<std::vector<double>> q0 = {{0.3, -0.5, 0.2, 0.0}, {-0.1, 0.4, 0.6, -0.7}};
  for (const char* causal : {"true", "false"}) {
    for (const std::string fn : {"cooperation", "tm1", "tm2", "tm3", "tm4"}) {
      SCOPED_TRACE(fn + " causal " + causal);
      Config cfg = tiny_config({"model.hidden_dim=4", "model.num_heads=1", "attention.n_latent=2",
                                "attention.triadic_loops=1", "attention.mod_fn=" + fn,
                                std::string("attention.co4_causal=") + causal});
      auto m = plugin_registry().create("co4", attention_spec(cfg, "co4"));
      m->to(torch::kFloat64);
      torch::NoGradGuard guard;
      auto p = m->named_parameters();
      p["k_proj.weight"].copy_(torch::diag(torch::tensor(a, torch::kFloat64)));
      p["v_proj.weight"].copy_(torch::diag(torch::tensor(b, torch::kFloat64)));
      p["o_proj.weight"].copy_(torch::eye(4, torch::kFloat64));
      p["q_proj.weight"].normal_();  // irrelevant with one token
      for (int l = 0; l < 2; ++l) p["latent_queries"][l].copy_(torch::tensor(q0[l], torch::kFloat64));
      AttentionContext ctx;
      auto y = m->forward(torch::tensor(x, torch::kFloat64).view({1, 1, 4}), ctx);
      for (int e = 0; e < 4; ++e) {
        const double k = a[e] * x[e], v = b[e] * x[e], context_q = (k + v) / 2;
        const double q_mean = (closed_form(fn, q0[0][e], context_q) + closed_form(fn, q0[1][e], context_q)) / 2;
        const double k_mod = closed_form(fn, k, (q_mean + v) / 2);
        const double expected = closed_form(fn, v, (q_mean + k_mod) / 2);
        EXPECT_NEAR(y[0][0][e].item<double>(), expected, 1e-12 * (1 + std::fabs(expected))) << "channel " << e;
      }
    }
  }
}

}  // namespace
}  // namespace memtx::test
