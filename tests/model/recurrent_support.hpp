// tests/model/recurrent_support.hpp: building stand-alone recurrent modules (infini, linear, ssm) through the
// registry, hand-setting their weights, feeding them in pieces, and the float64 references the infini_* and
// linear_* tests compare against, written from the equations of docs (one segment, head and query at a time):
//   infini: A_dot = causal softmax within the segment (RoPE at absolute positions), A_mem = sigma(q) M /
//           (sigma(q) z + eps) with pre-RoPE q, A = g(beta_h) A_mem + (1 - g(beta_h)) A_dot, then M, z
//           updated per kv head with the segment's pre-RoPE keys (linear or delta rule); sigma = ELU + 1.
//   linear: S_t = sum_{j<=t} sigma(k_j)^T v_j, z_t = sum_{j<=t} sigma(k_j), o_t = sigma(q_t) S_t /
//           (sigma(q_t) z_t + eps), one step at a time.
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "memtx/ops.hpp"
#include "test_support.hpp"

namespace memtx::test::recurrent {

using Params = std::map<std::string, torch::Tensor>;
constexpr double kEps = 1e-6;  // the eps of both plugins

struct ModuleUnderTest {
  std::unique_ptr<Config> config;
  std::shared_ptr<AttentionModuleImpl> module;
  AttentionModuleImpl* operator->() const { return module.get(); }
};

// tiny_config (hidden 32, 4 heads) with `variant` and these overrides; the model's initialisation.
inline ModuleUnderTest make_module(const std::string& variant, std::vector<std::string> overrides = {},
                                   uint64_t seed = 7) {
  overrides.insert(overrides.begin(), "attention.attention_variant=" + variant);
  ModuleUnderTest m;
  m.config = std::make_unique<Config>(tiny_config(overrides));
  torch::manual_seed(seed);
  m.module = plugin_registry().create(variant, attention_spec(*m.config, variant));
  m.module->reset_parameters(0.02);
  return m;
}

// Projection weights drawn N(0, std) (large enough that memory terms and gates matter); other parameters kept.
inline void spread_weights(AttentionModuleImpl& m, double std = 0.3, uint64_t seed = 11) {
  torch::manual_seed(seed);
  torch::NoGradGuard guard;
  for (auto& kv : m.named_parameters()) {
    if (kv.key().find("_proj.weight") != std::string::npos) kv.value().normal_(0.0, std);
  }
}

inline Params params_of(AttentionModuleImpl& m, bool requires_grad = false) {
  Params p;
  for (const auto& kv : m.named_parameters()) {
    p[kv.key()] = kv.value().detach().to(torch::kFloat64).clone().requires_grad_(requires_grad);
  }
  return p;
}

inline void copy_common_parameters(AttentionModuleImpl& from, AttentionModuleImpl& to) {
  torch::NoGradGuard guard;
  auto src = from.named_parameters();
  for (auto& kv : to.named_parameters()) {
    if (src.contains(kv.key())) kv.value().copy_(src[kv.key()]);
  }
}

inline std::map<std::string, torch::Tensor> gradients_of(AttentionModuleImpl& m) {
  std::map<std::string, torch::Tensor> grads;
  for (const auto& kv : m.named_parameters()) {
    if (kv.value().grad().defined()) grads[kv.key()] = kv.value().grad().clone();
  }
  return grads;
}

// max |a - b| / max(1, max |b|).
inline double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = std::max(1.0, b.abs().max().item<double>());
  return max_abs_diff(a, b) / scale;
}

// m's output on x and the float64 parameter copies its reference ran on; error = the forward's rel_diff.
struct ReferenceRun {
  torch::Tensor y;
  Params params;
  double error = 0;
};

// Runs m over x and back-propagates one random projection of its output, then the same through
// reference(params, x) on float64 copies of m's parameters: the outputs must agree within forward_tol and the
// gradients of x and of every parameter within grad_tol (rel_diff).
inline ReferenceRun expect_matches_reference(
    AttentionModuleImpl& m, const torch::Tensor& x_in,
    const std::function<torch::Tensor(const Params&, const torch::Tensor&)>& reference, double forward_tol,
    double grad_tol) {
  auto x = x_in.detach().clone().requires_grad_(true);
  AttentionContext ctx;
  auto y = m.forward(x, ctx);
  auto w = torch::randn_like(y);
  (y * w).sum().backward();
  ReferenceRun run{y.detach(), params_of(m, /*requires_grad=*/true), 0.0};
  auto xr = x_in.detach().clone().requires_grad_(true);
  auto ref = reference(run.params, xr);
  (ref * w).sum().backward();
  run.error = rel_diff(run.y, ref.detach());
  EXPECT_LE(run.error, forward_tol);
  EXPECT_LE(rel_diff(x.grad(), xr.grad()), grad_tol);
  auto grads = gradients_of(m);
  for (auto& [name, t] : run.params) {
    EXPECT_TRUE(grads.count(name)) << name;
    if (grads.count(name)) EXPECT_LE(rel_diff(grads[name], t.grad()), grad_tol) << name;
  }
  for (auto& entry : run.params) entry.second = entry.second.detach();
  return run;
}

inline torch::Tensor project(const Params& p, const std::string& name, const torch::Tensor& x) {
  auto y = torch::matmul(x, p.at(name + ".weight").t());
  if (p.count(name + ".bias")) y = y + p.at(name + ".bias");
  return y;
}

inline torch::Tensor sigma(const torch::Tensor& u) { return torch::elu(u) + 1.0; }

inline torch::Tensor gate_ref(const torch::Tensor& beta, const std::string& act) {
  if (act == "orig_sigmoid") return 1.0 / (1.0 + torch::exp(-beta));
  if (act == "hard_sigmoid") return torch::clamp(beta / 6.0 + 0.5, 0.0, 1.0);
  return torch::clamp(beta, 0.0, 1.0);  // clamp
}

struct InfiniRef {
  int64_t heads = 4, kv_heads = 2, head_dim = 8, segment = 4;
  bool rope = true;
  RopeLayout layout = RopeLayout::Half;
  double theta = 10000.0;
  bool delta = false, memory_on = true;
  bool write_gate = false;  // w_t = hard_sigmoid(x_t W_w + b_w) per kv head scales token t's write
  std::string act = "orig_sigmoid";
  int64_t local_segments = 1;  // the local softmax also sees the (local_segments - 1) segments before
};

// x [B, T, D] (any float type) -> [B, T, D] float64, from the parameters p (float64).
inline torch::Tensor infini_reference(const Params& p, const torch::Tensor& x_in, const InfiniRef& o) {
  auto x = x_in.to(torch::kFloat64);
  const int64_t B = x.size(0), T = x.size(1), H = o.heads, G = o.kv_heads, d = o.head_dim, L = o.segment;
  auto q = project(p, "q_proj", x).view({B, T, H, d}).transpose(1, 2);
  auto k = project(p, "k_proj", x).view({B, T, G, d}).transpose(1, 2);
  auto v = project(p, "v_proj", x).view({B, T, G, d}).transpose(1, 2);
  auto qr = o.rope ? ops::apply_rope(q, 0, o.theta, o.layout) : q;  // absolute positions
  auto kr = o.rope ? ops::apply_rope(k, 0, o.theta, o.layout) : k;
  auto g = gate_ref(p.at("balance"), o.act);
  torch::Tensor write = o.write_gate ? gate_ref(project(p, "write_gate", x), "hard_sigmoid") : torch::Tensor();  // [B, T, G]
  std::vector<torch::Tensor> batch_out;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<torch::Tensor> M(G), z(G);
    for (int64_t j = 0; j < G; ++j) {
      M[j] = torch::zeros({d, d}, x.options());
      z[j] = torch::zeros({d}, x.options());
    }
    std::vector<torch::Tensor> time_out;
    for (int64_t s0 = 0; s0 < T; s0 += L) {
      const int64_t len = std::min(L, T - s0);
      for (int64_t t = s0; t < s0 + len; ++t) {
        std::vector<torch::Tensor> head_out;
        for (int64_t h = 0; h < H; ++h) {
          const int64_t kvh = h / (H / G);
          const int64_t first = std::max<int64_t>(0, s0 - (o.local_segments - 1) * L);  // the local window
          auto keys = kr[b][kvh].narrow(0, first, t - first + 1);                       // [n, d]
          auto w = torch::softmax(torch::mv(keys, qr[b][h][t]) / std::sqrt(double(d)), 0);
          auto a_dot = torch::mv(v[b][kvh].narrow(0, first, t - first + 1).t(), w);     // [d]
          if (!o.memory_on) {
            head_out.push_back(a_dot);
            continue;
          }
          auto sq = sigma(q[b][h][t]);
          auto a_mem = torch::mv(M[kvh].t(), sq) / (torch::dot(sq, z[kvh]) + kEps);
          head_out.push_back(g[h] * a_mem + (1.0 - g[h]) * a_dot);
        }
        time_out.push_back(torch::cat(head_out));
      }
      if (!o.memory_on) continue;
      for (int64_t j = 0; j < G; ++j) {
        auto sk = sigma(k[b][j].narrow(0, s0, len));  // [len, d]
        auto val = v[b][j].narrow(0, s0, len);
        if (o.delta) val = val - torch::matmul(sk, M[j]) / (torch::mv(sk, z[j]) + kEps).unsqueeze(1);
        if (o.write_gate) sk = sk * write[b].narrow(0, s0, len).select(1, j).unsqueeze(1);
        M[j] = M[j] + torch::matmul(sk.t(), val);
        z[j] = z[j] + sk.sum(0);
      }
    }
    batch_out.push_back(torch::stack(time_out));
  }
  return project(p, "o_proj", torch::stack(batch_out));
}

// Causal linear attention, one step at a time (GQA: head h uses kv head h / (H / G)).
inline torch::Tensor linear_reference(const Params& p, const torch::Tensor& x_in, int64_t H, int64_t G, int64_t d) {
  auto x = x_in.to(torch::kFloat64);
  const int64_t B = x.size(0), T = x.size(1);
  auto q = sigma(project(p, "q_proj", x).view({B, T, H, d}));
  auto k = sigma(project(p, "k_proj", x).view({B, T, G, d}));
  auto v = project(p, "v_proj", x).view({B, T, G, d});
  std::vector<torch::Tensor> batch_out;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<torch::Tensor> S(G), z(G), time_out;
    for (int64_t j = 0; j < G; ++j) {
      S[j] = torch::zeros({d, d}, x.options());
      z[j] = torch::zeros({d}, x.options());
    }
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t j = 0; j < G; ++j) {
        S[j] = S[j] + torch::outer(k[b][t][j], v[b][t][j]);
        z[j] = z[j] + k[b][t][j];
      }
      std::vector<torch::Tensor> head_out;
      for (int64_t h = 0; h < H; ++h) {
        const int64_t j = h / (H / G);
        head_out.push_back(torch::mv(S[j].t(), q[b][t][h]) / (torch::dot(q[b][t][h], z[j]) + kEps));
      }
      time_out.push_back(torch::cat(head_out));
    }
    batch_out.push_back(torch::stack(time_out));
  }
  return project(p, "o_proj", torch::stack(batch_out));
}

// Runs m over x with a state, in pieces of the given lengths (cycled until x is consumed); after_piece, when
// given, sees the state and the tokens consumed so far after every piece.
inline torch::Tensor forward_in_pieces(AttentionModuleImpl& m, const torch::Tensor& x, LayerState& state,
                                       const std::vector<int64_t>& lengths, bool use_cache = false,
                                       const std::function<void(const LayerState&, int64_t)>& after_piece = {}) {
  std::vector<torch::Tensor> outs;
  int64_t start = 0;
  for (size_t i = 0; start < x.size(1); ++i) {
    const int64_t len = std::min(lengths[i % lengths.size()], x.size(1) - start);
    AttentionContext ctx;
    ctx.state = &state;
    ctx.start_position = start;
    ctx.use_cache = use_cache;
    outs.push_back(m.forward(x.narrow(1, start, len), ctx));
    start += len;
    if (after_piece) after_piece(state, start);
  }
  return torch::cat(outs, 1);
}

}  // namespace memtx::test::recurrent
