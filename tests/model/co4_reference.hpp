// tests/model/co4_reference.hpp: CO4 written out again for the tests, in float64, token by token.
//   published_output: the published (non-causal) formula over all the tokens it is given; one output vector.
//   causal_output_at_last: memtx's causal form evaluated for the last position of the prefix it is given, by
//     walking the tokens one at a time with running sums (token j's key/value modulated by the latents of
//     position j, the readout with the latents of the last position over every token's final key/value).
//   causal_reference: for each t, causal_output_at_last(x[:, :t+1]) computed from that prefix alone.
#pragma once
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace memtx::test::co4ref {

using Params = std::map<std::string, torch::Tensor>;

struct Options {
  int64_t heads = 4;
  int64_t passes = 1;
  std::string mod_fn = "cooperation";
};

inline Params params_of(AttentionModuleImpl& m) {
  Params p;
  for (const auto& kv : m.named_parameters()) p[kv.key()] = kv.value().detach().to(torch::kFloat64);
  return p;
}

inline torch::Tensor linear(const Params& p, const std::string& name, const torch::Tensor& x) {
  auto y = torch::matmul(x, p.at(name + ".weight").t());
  if (p.count(name + ".bias")) y = y + p.at(name + ".bias");
  return y;
}

inline torch::Tensor mod(const std::string& fn, const torch::Tensor& r, const torch::Tensor& c) {
  if (fn == "cooperation") return r.pow(2) + 2.0 * r + c * (1.0 + r.abs());
  if (fn == "tm1") return r * (1.0 + torch::exp(r * c)) / 2.0;
  if (fn == "tm2") return r + r * c;
  if (fn == "tm3") return r * (1.0 + torch::tanh(r * c));
  if (fn == "tm4") return 2.0 * r.pow(2) * c;
  ADD_FAILURE() << "unknown mod_fn " << fn;
  return r;
}

// latents [B, L, D] (before Wq), keys/values [B, n, D] -> [B, D]: per head and latent a softmax over the n
// tokens, outputs averaged over latents, heads concatenated, Wo.
inline torch::Tensor readout(const Params& p, const torch::Tensor& latents, const torch::Tensor& keys,
                             const torch::Tensor& values, int64_t heads) {
  const int64_t B = latents.size(0), L = latents.size(1), D = latents.size(2), d = D / heads;
  auto q = linear(p, "q_proj", latents);
  auto out = torch::zeros({B, D}, latents.options());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < heads; ++h) {
      auto k = keys[b].narrow(1, h * d, d), v = values[b].narrow(1, h * d, d);  // [n, d]
      auto acc = torch::zeros({d}, latents.options());
      for (int64_t l = 0; l < L; ++l) {
        auto scores = torch::mv(k, q[b][l].narrow(0, h * d, d)) / std::sqrt(double(d));
        auto weights = torch::exp(scores - scores.max());
        acc = acc + torch::mv(v.t(), weights / weights.sum());
      }
      out[b].narrow(0, h * d, d).copy_(acc / double(L));
    }
  return linear(p, "o_proj", out);
}

inline torch::Tensor published_output(const Params& p, const torch::Tensor& x32, const Options& o) {
  auto x = x32.to(torch::kFloat64);
  const int64_t B = x.size(0);
  auto k = linear(p, "k_proj", x), v = linear(p, "v_proj", x);
  auto q = p.at("latent_queries").unsqueeze(0).repeat({B, 1, 1});
  for (int64_t i = 0; i < o.passes; ++i) {
    auto context_q = (k.mean(1) + v.mean(1)) / 2.0;
    q = mod(o.mod_fn, q, context_q.unsqueeze(1));
    auto q_mean = q.mean(1).unsqueeze(1);
    k = mod(o.mod_fn, k, (q_mean + v) / 2.0);
    v = mod(o.mod_fn, v, (q_mean + k) / 2.0);
  }
  return readout(p, q, k, v, o.heads);
}

inline torch::Tensor causal_output_at_last(const Params& p, const torch::Tensor& x32, const Options& o) {
  auto x = x32.to(torch::kFloat64);
  const int64_t B = x.size(0), n = x.size(1), D = x.size(2);
  std::vector<torch::Tensor> sum_k(o.passes, torch::zeros({B, D}, x.options()));
  std::vector<torch::Tensor> sum_v(o.passes, torch::zeros({B, D}, x.options()));
  std::vector<torch::Tensor> keys, values;
  torch::Tensor latents;
  for (int64_t j = 0; j < n; ++j) {
    auto k = linear(p, "k_proj", x.select(1, j)), v = linear(p, "v_proj", x.select(1, j));  // [B, D]
    auto q = p.at("latent_queries").unsqueeze(0).repeat({B, 1, 1});
    for (int64_t i = 0; i < o.passes; ++i) {
      sum_k[i] = sum_k[i] + k;
      sum_v[i] = sum_v[i] + v;
      auto context_q = (sum_k[i] / double(j + 1) + sum_v[i] / double(j + 1)) / 2.0;
      q = mod(o.mod_fn, q, context_q.unsqueeze(1));
      auto q_mean = q.mean(1);
      k = mod(o.mod_fn, k, (q_mean + v) / 2.0);
      v = mod(o.mod_fn, v, (q_mean + k) / 2.0);
    }
    keys.push_back(k);
    values.push_back(v);
    latents = q;
  }
  return readout(p, latents, torch::stack(keys, 1), torch::stack(values, 1), o.heads);
}

inline torch::Tensor causal_reference(const Params& p, const torch::Tensor& x, const Options& o) {
  std::vector<torch::Tensor> outputs;
  for (int64_t t = 0; t < x.size(1); ++t) outputs.push_back(causal_output_at_last(p, x.narrow(1, 0, t + 1), o));
  return torch::stack(outputs, 1);
}

}  // namespace memtx::test::co4ref
