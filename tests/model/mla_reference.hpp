// tests/model/mla_reference.hpp: a sequential float64 reference of multi-head latent attention, written
// from the equations (one query, one head, one key at a time; RoPE from its closed form), and helpers
// shared by the mla tests.
#pragma once
#include <cmath>
#include <map>
#include <string>

#include "test_support.hpp"

namespace memtx::test::mla {

using Params = std::map<std::string, torch::Tensor>;

struct MlaDims {
  int64_t heads = 4;
  int64_t q_lora_rank = 0;  // 0 = q_proj
  int64_t kv_lora_rank = 8;
  int64_t nope = 8;
  int64_t rope = 4;
  int64_t v = 8;
  bool use_rope = true;
  RopeLayout layout = RopeLayout::Half;
  double theta = 10000.0;
  bool lobo = false;
  double eps = 1e-6;
};

inline Params params_of(torch::nn::Module& m) {
  Params p;
  for (const auto& kv : m.named_parameters()) p[kv.key()] = kv.value().detach().to(torch::kFloat64);
  return p;
}

inline void copy_parameters(torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard guard;
  auto src = from.named_parameters();
  for (auto& kv : to.named_parameters()) {
    if (const auto* from_value = src.find(kv.key())) kv.value().copy_(*from_value);  // a sink logit may be new
  }
}

inline torch::Tensor ref_linear(const Params& p, const std::string& name, const torch::Tensor& x) {
  auto y = torch::matmul(x, p.at(name + ".weight").t());
  if (p.count(name + ".bias")) y = y + p.at(name + ".bias");
  return y;
}

inline torch::Tensor ref_rms(const torch::Tensor& x, const torch::Tensor& gain, double eps) {
  return x / torch::sqrt(x.pow(2).mean(-1, true) + eps) * gain;
}

// RoPE of one vector at position pos: channel pair i (of r/2) rotated by pos * theta^(-2i/r).
inline torch::Tensor ref_rotate(const torch::Tensor& v, int64_t pos, double theta, RopeLayout layout) {
  const int64_t r = v.size(0);
  auto out = v.clone();
  for (int64_t i = 0; i < r / 2; ++i) {
    const double a = double(pos) * std::pow(theta, -2.0 * double(i) / double(r));
    const int64_t i1 = layout == RopeLayout::Half ? i : 2 * i;
    const int64_t i2 = layout == RopeLayout::Half ? i + r / 2 : 2 * i + 1;
    const double x1 = v[i1].item<double>(), x2 = v[i2].item<double>();
    out[i1] = x1 * std::cos(a) - x2 * std::sin(a);
    out[i2] = x2 * std::cos(a) + x1 * std::sin(a);
  }
  return out;
}

// y [B, T, D] in float64 for x [B, T, D].
inline torch::Tensor mla_reference(const Params& p, const torch::Tensor& x32, const MlaDims& d) {
  auto x = x32.to(torch::kFloat64);
  const int64_t B = x.size(0), T = x.size(1), H = d.heads, dqk = d.nope + d.rope;
  auto q = d.q_lora_rank > 0
               ? ref_linear(p, "q_b_proj", ref_rms(ref_linear(p, "q_a_proj", x), p.at("q_a_layernorm.weight"), d.eps))
               : ref_linear(p, "q_proj", x);
  q = q.view({B, T, H, dqk});
  auto kv_a = ref_linear(p, "kv_a_proj_with_mqa", x);
  auto c_kv = ref_rms(kv_a.narrow(-1, 0, d.kv_lora_rank), p.at("kv_a_layernorm.weight"), d.eps);
  auto k_rope = kv_a.narrow(-1, d.kv_lora_rank, d.rope);
  auto kv = ref_linear(p, "kv_b_proj", c_kv).view({B, T, H, d.nope + d.v});
  auto rotate = [&](const torch::Tensor& v, int64_t pos) { return d.use_rope ? ref_rotate(v, pos, d.theta, d.layout) : v; };
  const double scale = 1.0 / std::sqrt(double(dqk));
  auto heads = torch::zeros({B, T, H, d.v}, x.options());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < T; ++i)
      for (int64_t h = 0; h < H; ++h) {
        auto q_nope = q[b][i][h].narrow(0, 0, d.nope);
        auto q_rot = rotate(q[b][i][h].narrow(0, d.nope, d.rope), i);
        std::vector<double> e;
        double denom = d.lobo ? std::exp(p.at("lobo_log_c").item<double>()) : 0.0;
        for (int64_t j = 0; j <= i; ++j) {
          const double s = (q_nope.dot(kv[b][j][h].narrow(0, 0, d.nope)).item<double>() +
                            q_rot.dot(rotate(k_rope[b][j], j)).item<double>()) * scale;
          e.push_back(std::exp(s));
          denom += e.back();
        }
        auto o = torch::zeros({d.v}, x.options());
        for (int64_t j = 0; j <= i; ++j) o += kv[b][j][h].narrow(0, d.nope, d.v) * (e[j] / denom);
        heads[b][i][h] = o;
      }
  return ref_linear(p, "o_proj", heads.view({B, T, H * d.v}));
}

// Config overrides for a tiny MLA layer (hidden 32, 4 heads) with the given dims.
inline std::vector<std::string> mla_overrides(const MlaDims& d) {
  std::vector<std::string> o = {"attention.attention_variant=mla",
                                "model.num_heads=" + std::to_string(d.heads),
                                "attention.mla_latent_dim=" + std::to_string(d.kv_lora_rank),
                                "attention.mla_rotary_dim=" + std::to_string(d.rope),
                                "attention.mla_nope_head_dim=" + std::to_string(d.nope),
                                "attention.mla_v_head_dim=" + std::to_string(d.v),
                                std::string("model.use_rope=") + (d.use_rope ? "true" : "false"),
                                std::string("model.rope_layout=") + (d.layout == RopeLayout::Half ? "half" : "interleaved"),
                                std::string("attention.use_mla_lobo=") + (d.lobo ? "true" : "false")};
  if (d.q_lora_rank > 0) o.push_back("attention.mla_q_lora_rank=" + std::to_string(d.q_lora_rank));
  return o;
}

inline std::shared_ptr<AttentionModuleImpl> make_mla(const std::vector<std::string>& overrides, double init_std = 0.2) {
  Config cfg = tiny_config(overrides);
  auto m = plugin_registry().create("mla", attention_spec(cfg, "mla"));
  m->reset_parameters(init_std);
  return m;
}

}  // namespace memtx::test::mla
