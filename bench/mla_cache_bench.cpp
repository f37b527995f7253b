// bench/mla_cache_bench.cpp: what MLA's latent cache saves and what decoding with it costs, on the CPU.
// For each configuration, one JSON line per measurement:
//   "cache": bytes per token per layer and for the whole model, measured from the state tensors after a
//     prefill, for the latent cache (c_kv + k_rope: kv_lora_rank + rotary dim values), the expanded
//     per-head cache of the same layer (H (d_nope + d_rope + d_v) values, Hugging Face's layout), and the
//     textbook MHA figure 2 H head_dim with head_dim = hidden / H. A DeepSeek-V3-sized row is computed from
//     the formulas only ("analytic": true).
//   "decode": tokens/s of token-by-token decoding after a prefill of `context` tokens, for one mla layer and
//     for the whole model, with the latent cache (absorbed W_kvb) and with the expanded cache (the
//     uncompressed computation); both use the same weights and their outputs are compared.
// Plugins come from the build tree (or MEMTX_PLUGIN_PATH). Usage: mla_cache_bench [decode tokens (32)] [threads]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>

#include "model/transformer.hpp"
#include "plugin/registry.hpp"

namespace {

using memtx::Config;
using memtx::Transformer;

struct MlaShape {
  std::string name;
  int64_t hidden, heads, layers, q_lora_rank, kv_lora_rank, rope_dim, nope_dim, v_dim, intermediate, vocab;
  std::vector<int64_t> contexts;  // prefill lengths for the decode timings
};

const std::vector<MlaShape>& shapes() {
  static const std::vector<MlaShape> list = {
      {"deepseekv3-mla-tiny (fixture)", 64, 4, 2, 32, 16, 8, 16, 16, 128, 512, {512}},
      {"hidden512", 512, 8, 8, 256, 128, 32, 64, 64, 1408, 1000, {256, 2048}},
  };
  return list;
}

Config make_config(const memtx::Registry& registry, const MlaShape& s, const std::string& cache) {
  Config c(registry.schema());
  auto set_int = [&](const char* key, int64_t v) { c.set(key, v); };
  set_int("model.hidden_dim", s.hidden);
  set_int("model.num_heads", s.heads);
  set_int("model.num_layers", s.layers);
  set_int("model.intermediate_dim", s.intermediate);
  set_int("model.vocab_size", s.vocab);
  set_int("model.max_seq_len", 8192);
  set_int("attention.mla_q_lora_rank", s.q_lora_rank);
  set_int("attention.mla_latent_dim", s.kv_lora_rank);
  set_int("attention.mla_rotary_dim", s.rope_dim);
  set_int("attention.mla_nope_head_dim", s.nope_dim);
  set_int("attention.mla_v_head_dim", s.v_dim);
  c.set("model.rope_layout", std::string("interleaved"));
  c.set("model.device", std::string("cpu"));
  c.set("memory.vanilla_mode", true);
  c.set("model.tie_embeddings", false);
  c.set("attention.attention_variant", std::string("mla"));
  c.set("attention.mla_cache", cache);
  return c;
}

int64_t state_bytes(const memtx::LayerState& state) {
  int64_t bytes = 0;
  for (const auto& [name, t] : state) bytes += t.numel() * int64_t(t.element_size());
  return bytes;
}

void print(const nlohmann::json& j) {
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

nlohmann::json analytic_cache(const MlaShape& s, int64_t bytes_per_value) {
  const int64_t latent = (s.kv_lora_rank + s.rope_dim) * bytes_per_value;
  const int64_t expanded = s.heads * (s.nope_dim + s.rope_dim + s.v_dim) * bytes_per_value;
  const int64_t mha = 2 * s.hidden * bytes_per_value;  // 2 H head_dim, head_dim = hidden / H
  return {{"bench", "mla_cache"}, {"kind", "cache"}, {"config", s.name}, {"hidden", s.hidden}, {"heads", s.heads},
          {"layers", s.layers}, {"kv_lora_rank", s.kv_lora_rank}, {"rope_dim", s.rope_dim},
          {"bytes_per_value", bytes_per_value},
          {"latent_bytes_per_token_layer", latent}, {"expanded_bytes_per_token_layer", expanded},
          {"mha_2Hd_bytes_per_token_layer", mha},
          {"latent_bytes_per_token_model", latent * s.layers}, {"expanded_bytes_per_token_model", expanded * s.layers},
          {"mha_2Hd_bytes_per_token_model", mha * s.layers},
          {"expanded_over_latent", double(expanded) / double(latent)}, {"mha_2Hd_over_latent", double(mha) / double(latent)}};
}

// Cache bytes measured from the model's state after a prefill, for both cache kinds.
void measure_cache(const memtx::Registry& registry, const MlaShape& s) {
  const int64_t prefill = 64;
  auto tokens = torch::randint(0, s.vocab, {1, prefill}, torch::kLong);
  std::map<std::string, std::pair<int64_t, int64_t>> per;  // cache kind -> (layer 0 bytes, model bytes) per token
  for (const std::string cache : {"latent", "expanded"}) {
    Transformer model(make_config(registry, s, cache), registry);
    model->eval();
    torch::NoGradGuard guard;
    auto state = model->initial_state(1);
    model->forward(tokens, &state, true);
    int64_t total = 0;
    for (const auto& layer : state.layers) total += state_bytes(layer);
    per[cache] = {state_bytes(state.layers[0]) / prefill, total / prefill};
  }
  auto j = analytic_cache(s, 4);
  const bool formulas_hold = per["latent"].first == j["latent_bytes_per_token_layer"].get<int64_t>() &&
                             per["expanded"].first == j["expanded_bytes_per_token_layer"].get<int64_t>();
  j["measured_latent_bytes_per_token_layer"] = per["latent"].first;
  j["measured_expanded_bytes_per_token_layer"] = per["expanded"].first;
  j["measured_latent_bytes_per_token_model"] = per["latent"].second;
  j["measured_expanded_bytes_per_token_model"] = per["expanded"].second;
  j["measured_equals_formula"] = formulas_hold;
  j["analytic"] = false;
  print(j);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Token-by-token decoding of one layer and of the whole model after a prefill, latent vs expanded cache.
void measure_decode(const memtx::Registry& registry, const MlaShape& s, int64_t context, int64_t steps) {
  torch::manual_seed(0);
  Transformer latent(make_config(registry, s, "latent"), registry);
  Transformer expanded(make_config(registry, s, "expanded"), registry);
  {
    torch::NoGradGuard guard;
    auto src = latent->named_parameters();
    for (auto& p : expanded->named_parameters()) p.value().copy_(src[p.key()]);
  }
  latent->eval();
  expanded->eval();
  torch::NoGradGuard guard;
  auto tokens = torch::randint(0, s.vocab, {1, context + steps}, torch::kLong);
  auto x = torch::randn({1, context + steps, s.hidden});

  auto layer_run = [&](Transformer& m, double& seconds) {
    memtx::LayerState state;
    memtx::AttentionContext prefill;
    prefill.state = &state;
    prefill.use_cache = true;
    m->blocks[0]->attn->forward(x.narrow(1, 0, context), prefill);
    std::vector<torch::Tensor> outs;
    const auto start = std::chrono::steady_clock::now();
    for (int64_t t = context; t < context + steps; ++t) {
      memtx::AttentionContext ctx;
      ctx.state = &state;
      ctx.use_cache = true;
      ctx.start_position = t;
      outs.push_back(m->blocks[0]->attn->forward(x.narrow(1, t, 1), ctx));
    }
    seconds = seconds_since(start);
    return torch::cat(outs, 1);
  };
  auto model_run = [&](Transformer& m, double& seconds) {
    auto state = m->initial_state(1);
    m->forward(tokens.narrow(1, 0, context), &state, true);
    std::vector<torch::Tensor> outs;
    const auto start = std::chrono::steady_clock::now();
    for (int64_t t = context; t < context + steps; ++t) outs.push_back(m->forward(tokens.narrow(1, t, 1), &state, true));
    seconds = seconds_since(start);
    return torch::cat(outs, 1);
  };
  for (const char* level : {"layer", "model"}) {
    double t_latent = 0, t_expanded = 0;
    const bool is_layer = std::string(level) == "layer";
    auto run = [&](Transformer& m, double& seconds) { return is_layer ? layer_run(m, seconds) : model_run(m, seconds); };
    run(latent, t_latent);  // warm-up
    run(expanded, t_expanded);
    auto y_latent = run(latent, t_latent);
    auto y_expanded = run(expanded, t_expanded);
    print({{"bench", "mla_cache"}, {"kind", "decode"}, {"config", s.name}, {"level", level}, {"context", context},
           {"decode_tokens", steps}, {"batch", 1}, {"threads", at::get_num_threads()},
           {"latent_absorbed_tokens_per_s", double(steps) / t_latent},
           {"expanded_tokens_per_s", double(steps) / t_expanded}, {"speedup", t_expanded / t_latent},
           {"max_abs_diff", (y_latent - y_expanded).abs().max().item<double>()}});
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t steps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 32;
  if (argc > 2) at::set_num_threads(std::max(1, std::atoi(argv[2])));
  try {
    memtx::Registry registry;
    registry.load_default_plugins();
    if (!registry.find("mla")) {
      std::fprintf(stderr, "mla_cache_bench: no 'mla' variant found (build memtx_plugin_mla or set MEMTX_PLUGIN_PATH)\n");
      return 1;
    }
    for (const auto& s : shapes()) measure_cache(registry, s);
    // DeepSeek-V3's attention dims (61 layers, 128 heads, kv_lora_rank 512, rope 64, nope 128, v 128), bf16.
    auto v3 = analytic_cache({"deepseek-v3 (bf16)", 7168, 128, 61, 1536, 512, 64, 128, 128, 18432, 129280, {}}, 2);
    v3["analytic"] = true;
    print(v3);
    for (const auto& s : shapes()) {
      for (int64_t context : s.contexts) measure_decode(registry, s, context, steps);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mla_cache_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
