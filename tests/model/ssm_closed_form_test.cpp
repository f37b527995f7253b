// The ssm mixer against arithmetic done here: one step of the recurrence worked out by hand (d_state 1,
// hand-set parameters, a carried state), and a scalar double-precision loop of every equation of
// plugins/ssm/ssm_mixer.hpp for random parameters and several steps.
#include <cmath>

#include "ssm_support.hpp"

namespace memtx::test {
namespace {

double silu(double v) { return v / (1.0 + std::exp(-v)); }
double softplus(double v) { return v > 20.0 ? v : std::log1p(std::exp(v)); }

void set(AttentionModuleImpl& m, const std::string& name, const torch::Tensor& value) {
  torch::NoGradGuard guard;
  auto params = m.named_parameters();
  ASSERT_TRUE(params.contains(name)) << name;
  ASSERT_EQ(params[name].sizes(), value.sizes()) << name;
  params[name].copy_(value);
}

torch::Tensor t2(std::vector<std::vector<float>> rows) {
  auto out = torch::zeros({int64_t(rows.size()), int64_t(rows[0].size())});
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < rows[i].size(); ++j) out[i][j] = rows[i][j];
  return out;
}

class SsmOneStepByHand : public ::testing::TestWithParam<std::string> {};

TEST_P(SsmOneStepByHand, MatchesTheEquations) {
  // Two channels (hidden 2, expand 1), d_state 1, dt_rank 1, conv kernel 2.
  auto m = make_ssm_mixer({"model.hidden_dim=2", "model.num_heads=1", "attention.ssm_mamba_expand=1",
                           "attention.ssm_d_state=1", "attention.ssm_dt_rank=1", "attention.ssm_conv_kernel_size=2",
                           "attention.ssm_scan=" + GetParam()});
  auto& mod = *m.module;
  set(mod, "in_proj.weight", t2({{1, 0}, {0, 1}, {1, 0}, {0, 1}}));  // u = x, z = x
  set(mod, "conv1d.weight", t2({{0.5f, 1.0f}, {-0.25f, 2.0f}}).view({2, 1, 2}));
  set(mod, "conv1d.bias", torch::tensor({0.1f, -0.2f}));
  set(mod, "x_proj.weight", t2({{0.3f, 0.1f}, {1.0f, -1.0f}, {0.5f, 0.5f}}));  // dt_low, B, C
  set(mod, "dt_proj.weight", t2({{1.0f}, {2.0f}}));
  set(mod, "dt_proj.bias", torch::tensor({0.2f, -0.1f}));
  set(mod, "A_log", t2({{std::log(1.5f)}, {std::log(0.5f)}}));
  set(mod, "D", torch::tensor({0.7f, -0.3f}));
  set(mod, "out_proj.weight", t2({{1, 0}, {0, 1}}));

  const double x[2] = {0.8, -0.5}, tail[2] = {0.2, -0.1}, h_prev[2] = {0.4, -0.6};
  const double conv_w[2][2] = {{0.5, 1.0}, {-0.25, 2.0}}, conv_b[2] = {0.1, -0.2};
  const double dt_w[2] = {1.0, 2.0}, dt_b[2] = {0.2, -0.1}, A[2] = {-1.5, -0.5}, Dskip[2] = {0.7, -0.3};
  double u[2], h[2], out[2];
  for (int c = 0; c < 2; ++c) u[c] = silu(conv_w[c][0] * tail[c] + conv_w[c][1] * x[c] + conv_b[c]);
  const double dt_low = 0.3 * u[0] + 0.1 * u[1], Bv = u[0] - u[1], Cv = 0.5 * (u[0] + u[1]);
  for (int c = 0; c < 2; ++c) {
    const double dt = softplus(dt_w[c] * dt_low + dt_b[c]);
    h[c] = std::exp(dt * A[c]) * h_prev[c] + dt * Bv * u[c];
    out[c] = (Cv * h[c] + Dskip[c] * u[c]) * silu(x[c]);
  }

  LayerState state;
  state["conv"] = torch::tensor({float(tail[0]), float(tail[1])}).view({1, 2, 1});
  state["h"] = torch::tensor({float(h_prev[0]), float(h_prev[1])}).view({1, 2, 1});
  AttentionContext ctx;
  ctx.state = &state;
  torch::NoGradGuard guard;
  auto y = mod.forward(torch::tensor({float(x[0]), float(x[1])}).view({1, 1, 2}), ctx);
  for (int c = 0; c < 2; ++c) {
    EXPECT_NEAR(y[0][0][c].item<double>(), out[c], 1e-6) << "output channel " << c;
    EXPECT_NEAR(state["h"][0][c][0].item<double>(), h[c], 1e-6) << "state channel " << c;
    EXPECT_EQ(state["conv"][0][c][0].item<float>(), float(x[c])) << "conv tail keeps the newest input";
  }
}

INSTANTIATE_TEST_SUITE_P(Scans, SsmOneStepByHand, ::testing::Values("sequential", "chunked"));

// Every equation as a scalar loop in double, over random (spread) parameters.
torch::Tensor reference_mixer(const std::map<std::string, torch::Tensor>& p, const torch::Tensor& x32, int64_t d_inner,
                              int64_t d_state, int64_t dt_rank, int64_t kernel) {
  auto x = x32.to(torch::kFloat64);
  auto P = [&](const std::string& n) { return p.at(n).to(torch::kFloat64); };
  auto W_in = P("in_proj.weight"), W_conv = P("conv1d.weight"), b_conv = P("conv1d.bias"), W_x = P("x_proj.weight");
  auto W_dt = P("dt_proj.weight"), b_dt = P("dt_proj.bias"), A_log = P("A_log"), Dp = P("D"), W_out = P("out_proj.weight");
  const int64_t Bsz = x.size(0), T = x.size(1), Dm = x.size(2);
  auto acc = [](const torch::Tensor& t) { return t.accessor<double, 2>(); };
  auto win = acc(W_in), wx = acc(W_x), wdt = acc(W_dt), alog = acc(A_log), wout = acc(W_out);
  auto wconv = W_conv.accessor<double, 3>();
  auto bconv = b_conv.accessor<double, 1>(), bdt = b_dt.accessor<double, 1>(), dsk = Dp.accessor<double, 1>();
  auto xa = x.accessor<double, 3>();
  auto out = torch::zeros({Bsz, T, Dm}, torch::kFloat64);
  for (int64_t b = 0; b < Bsz; ++b) {
    std::vector<std::vector<double>> u_raw(T, std::vector<double>(d_inner)), z(T, std::vector<double>(d_inner));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t c = 0; c < 2 * d_inner; ++c) {
        double s = 0;
        for (int64_t k = 0; k < Dm; ++k) s += win[c][k] * xa[b][t][k];
        (c < d_inner ? u_raw[t][c] : z[t][c - d_inner]) = s;
      }
    std::vector<std::vector<double>> h(d_inner, std::vector<double>(d_state, 0.0));
    for (int64_t t = 0; t < T; ++t) {
      std::vector<double> u(d_inner), proj(dt_rank + 2 * d_state, 0.0), y(d_inner);
      for (int64_t c = 0; c < d_inner; ++c) {
        double s = bconv[c];
        for (int64_t j = 0; j < kernel; ++j) {
          const int64_t src = t - (kernel - 1) + j;  // left padding kernel - 1
          if (src >= 0) s += wconv[c][0][j] * u_raw[src][c];
        }
        u[c] = silu(s);
      }
      for (int64_t r = 0; r < dt_rank + 2 * d_state; ++r)
        for (int64_t c = 0; c < d_inner; ++c) proj[r] += wx[r][c] * u[c];
      for (int64_t c = 0; c < d_inner; ++c) {
        double pre = bdt[c];
        for (int64_t r = 0; r < dt_rank; ++r) pre += wdt[c][r] * proj[r];
        const double dt = softplus(pre);
        double yc = dsk[c] * u[c];
        for (int64_t n = 0; n < d_state; ++n) {
          const double A = -std::exp(alog[c][n]);
          h[c][n] = std::exp(dt * A) * h[c][n] + dt * proj[dt_rank + n] * u[c];
          yc += proj[dt_rank + d_state + n] * h[c][n];
        }
        y[c] = yc * silu(z[t][c]);
      }
      for (int64_t k = 0; k < Dm; ++k) {
        double s = 0;
        for (int64_t c = 0; c < d_inner; ++c) s += wout[k][c] * y[c];
        out[b][t][k] = s;
      }
    }
  }
  return out;
}

TEST(SsmReference, ScalarLoopInDoubleAgrees) {
  for (const char* scan : {"sequential", "chunked"}) {
    auto m = make_ssm_mixer({"attention.ssm_d_state=4", "attention.ssm_dt_rank=3", "attention.ssm_conv_kernel_size=4",
                             std::string("attention.ssm_scan=") + scan});
    spread_ssm_parameters(*m.module);
    std::map<std::string, torch::Tensor> params;
    for (const auto& kv : m->named_parameters()) params[kv.key()] = kv.value().detach();
    torch::manual_seed(4);
    auto x = torch::randn({2, 9, 32});
    torch::NoGradGuard guard;
    AttentionContext ctx;
    auto y = m->forward(x, ctx);
    auto want = reference_mixer(params, x, 64, 4, 3, 4);
    const double err = rel_diff(y, want);
    std::cout << "[ssm reference] " << scan << " vs scalar double loop: " << err << " (max |y| "
              << want.abs().max().item<double>() << ")\n";
    EXPECT_LE(err, 1e-5) << scan;
  }
}

TEST(SsmInit, ReferenceInitialisation) {
  auto m = make_ssm_mixer({"attention.ssm_d_state=6", "attention.ssm_dt_rank=4"});
  auto p = m->named_parameters();
  auto A_log = p["A_log"];
  for (int64_t n = 0; n < 6; ++n) {
    EXPECT_NEAR(A_log[0][n].item<double>(), std::log(double(n + 1)), 1e-6);
    EXPECT_NEAR(A_log[63][n].item<double>(), std::log(double(n + 1)), 1e-6);
  }
  EXPECT_EQ(p["D"].min().item<double>(), 1.0);
  EXPECT_EQ(p["D"].max().item<double>(), 1.0);
  auto dt = torch::softplus(p["dt_proj.bias"].to(torch::kFloat64));
  EXPECT_GE(dt.min().item<double>(), 1e-3 - 1e-9);
  EXPECT_LE(dt.max().item<double>(), 1e-1 + 1e-9);
  const double bound = 1.0 / std::sqrt(4.0);
  EXPECT_LE(p["dt_proj.weight"].abs().max().item<double>(), bound);
  EXPECT_GT(p["dt_proj.weight"].abs().max().item<double>(), 0.5 * bound);
  const double std = p["in_proj.weight"].std().item<double>();
  EXPECT_NEAR(std, 0.02, 0.002);
  EXPECT_EQ(p["conv1d.weight"].sizes(), (std::vector<int64_t>{64, 1, 3}));
  EXPECT_FALSE(p.contains("in_proj.bias"));
  EXPECT_FALSE(p.contains("out_proj.bias"));
  auto with_bias = make_ssm_mixer({"attention.ssm_io_bias=true"});
  EXPECT_TRUE(with_bias->named_parameters().contains("in_proj.bias"));
  EXPECT_TRUE(with_bias->named_parameters().contains("out_proj.bias"));
}

}  // namespace
}  // namespace memtx::test
