// tests/gpu/plugins_cuda_test.cpp: every attention variant on CUDA against the CPU on the same weights and tokens
// (causal with GQA, QK-norm, softcap and sink variations; infini; linear; ssm; mla with both caches; co4; models
// with memory layers, LoRA and chapter routing; a mix). One forward and backward pass in training mode compares the
// logits, the loss (with the layers' auxiliary losses) and every parameter gradient, in fp32 with TF32 off
// (1e-4 relative). Twice: over the whole input at once (infini models cut it into segments themselves), and over
// pieces of 13, 1, 9 and 17 tokens that carry the state (KV and latent caches, recurrent memories, router windows)
// from one call to the next, back-propagating through it; there the state must stay on the GPU, match the CPU's,
// and the pieces must give the whole input's logits.
#include <vector>

#include "gpu_support.hpp"

namespace memtx::test::gpu {
namespace {

struct VariantCase {
  std::string name;                    // the test's parameter name
  std::vector<std::string> variants;   // plugins it needs
  std::vector<std::string> overrides;  // on top of tiny_config
};

std::ostream& operator<<(std::ostream& out, const VariantCase& c) { return out << c.name; }

std::vector<VariantCase> variant_cases() {
  const std::vector<std::string> mla = {"attention.attention_variant=mla", "attention.mla_latent_dim=8",
                                        "attention.mla_rotary_dim=4"};
  const std::vector<std::string> memory = {"attention.attention_variant=causal", "attention.n_kv_group=2",
                                           "memory.vanilla_mode=false", "memory.num_memory_tokens=16",
                                           "memory.wo_init_zero=false"};
  auto plus = [](std::vector<std::string> base, const std::vector<std::string>& more) {
    base.insert(base.end(), more.begin(), more.end());
    return base;
  };
  return {
      // Fused SDPA (CUDA kernels) with grouped-query attention; with cached keys the bool-mask SDPA path.
      {"causal_gqa", {"causal"}, {"attention.attention_variant=causal", "attention.n_kv_group=2"}},
      // The explicit softmax path: QK-norm with a learned scale, logit softcapping, a learned sink per head.
      {"causal_qknorm_softcap_sink",
       {"causal"},
       {"attention.attention_variant=causal", "attention.n_kv_group=2", "attention.use_qk_norm=true",
        "attention.use_qk_norm_scale=true", "attention.attn_logit_softcapping=2.0", "attention.use_flash_lobo=true",
        "attention.use_flash_lobo_per_head=true", "attention.flash_lobo_log_const=0.5"}},
      // QK-norm on the fused path, every head its own kv head.
      {"causal_qknorm_fused", {"causal"}, {"attention.attention_variant=causal", "attention.use_qk_norm=true"}},
      // The explicit path with GQA and a constant sink (a buffer, not a parameter).
      {"causal_unfused_const_sink",
       {"causal"},
       {"attention.attention_variant=causal", "attention.n_kv_group=1", "attention.disable_flash_attention=true",
        "attention.use_flash_lobo=true", "attention.use_flash_obo_const=true"}},
      {"infini",
       {"infini"},
       {"attention.attention_variant=infini", "attention.n_kv_group=2", "infini_attention.segment_length=8",
        "infini_attention.balance_init_type=normal"}},
      {"infini_delta_qknorm",
       {"infini"},
       {"attention.attention_variant=infini", "infini_attention.segment_length=8",
        "infini_attention.balance_init_type=normal", "infini_attention.memory_update=delta",
        "attention.use_qk_norm=true", "infini_attention.balance_act_type=hard_sigmoid"}},
      {"linear", {"linear"}, {"attention.attention_variant=linear", "attention.n_kv_group=2",
                              "attention.linear_chunk_size=4"}},
      // auto: the CUDA scan kernel (where built) on CUDA, the chunked scan on the CPU; then the sequential loop.
      {"ssm", {"ssm"}, {"attention.attention_variant=ssm"}},
      {"ssm_sequential", {"ssm"}, {"attention.attention_variant=ssm", "attention.ssm_scan=sequential"}},
      {"mla_latent_cache", {"mla"}, plus(mla, {"attention.mla_cache=latent", "attention.mla_q_lora_rank=8"})},
      {"mla_expanded_cache_sink", {"mla"}, plus(mla, {"attention.mla_cache=expanded", "attention.use_mla_lobo=true",
                                                      "attention.mla_lobo_init=0.3"})},
      {"co4", {"co4"}, {"attention.attention_variant=co4", "attention.n_latent=2"}},
      // Memory layers in every block (one shared bank) and LoRA on q_proj and v_proj, as in
      // configs/memory_lora_combined.yaml.
      {"memory_lora",
       {"causal", "memory"},
       plus(memory, {"memory.use_memory_adapter=true", "memory.use_both_memory_and_lora=true", "memory.use_lora=true",
                     "memory.lora_rank=4", "memory.lora_alpha=8", "memory.lora_dropout=0",
                     "memory.lora_targets=[q_proj, v_proj]"})},
      // Chapters chosen per token from a rolling window (state "memory.routing_window"), router losses in the
      // objective, a bank per layer, block variant B (memory after the MLP, with its own MLP).
      {"memory_chapters_rolling",
       {"causal", "memory"},
       plus(memory, {"memory.use_chapters=true", "memory.num_chapters=4", "memory.top_k_chapters=2",
                     "memory.routing_strategy_train=rolling", "memory.routing_strategy_inference=rolling",
                     "memory.routing_window_size=4", "memory.use_auxiliary_loss=true", "memory.use_z_loss=true",
                     "memory.memory_sharing=per_layer", "memory.memory_block_variant=B"})},
      // Every recurrent family in one model, run in infini's segments of 8.
      {"mix_causal_infini_ssm_linear",
       {"causal", "infini", "ssm", "linear"},
       {"model.num_layers=4", "attention.attention_list=[causal, infini, ssm, linear]", "attention.n_kv_group=2",
        "infini_attention.segment_length=8", "infini_attention.balance_init_type=normal"}},
  };
}

constexpr int64_t kBatch = 2, kLength = 40;  // 5 infini segments of 8
const std::vector<int64_t> kPieces = {13, 1, 9, 17};
constexpr double kRtol = 1e-4;

// What one forward and backward pass produced, as float64 CPU copies.
struct Pass {
  torch::Tensor logits;                          // [B, T, vocab]
  double loss = 0.0;                             // next-token cross entropy + the layers' auxiliary losses
  torch::Tensor aux;                             // the auxiliary losses (undefined when the model has none)
  std::map<std::string, torch::Tensor> grads;    // by parameter name
  std::map<std::string, torch::Tensor> state;    // "layers.<i>.<key>" after the last piece (pieces only)
  std::map<std::string, torch::Device> devices;  // where each state tensor lived
};

torch::Tensor cpu64(const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kFloat64); }

// Training mode (no dropout in these configs), the whole input or `pieces` carried through one ModelState.
Pass run_pass(Transformer& model, const torch::Tensor& tokens, const std::vector<int64_t>& pieces) {
  model->train();
  model->zero_grad();
  Pass pass;
  torch::Tensor logits, aux;
  ModelState state;
  if (pieces.empty()) {
    logits = model->forward(tokens);
    aux = model->auxiliary_loss();
  } else {
    state = model->initial_state(tokens.size(0));
    std::vector<torch::Tensor> parts;
    int64_t start = 0;
    for (size_t i = 0; start < tokens.size(1); ++i) {
      const int64_t len = std::min(pieces[i % pieces.size()], tokens.size(1) - start);
      parts.push_back(model->forward(tokens.narrow(1, start, len), &state, /*use_cache=*/true));
      const torch::Tensor& piece_aux = model->auxiliary_loss();
      if (piece_aux.defined()) aux = aux.defined() ? aux + piece_aux : piece_aux;
      start += len;
    }
    logits = torch::cat(parts, 1);
    EXPECT_EQ(state.position, tokens.size(1));
  }
  const int64_t T = tokens.size(1), V = logits.size(2);
  auto targets = tokens.narrow(1, 1, T - 1).reshape({-1}).to(logits.device());
  auto objective = torch::nn::functional::cross_entropy(
      logits.narrow(1, 0, T - 1).reshape({-1, V}).to(torch::kFloat32), targets);
  if (aux.defined()) objective = objective + aux.to(torch::kFloat32);
  objective.backward();
  pass.logits = cpu64(logits);
  pass.loss = objective.item<double>();
  if (aux.defined()) pass.aux = cpu64(aux);
  pass.grads = gradients(*model);
  for (size_t i = 0; i < state.layers.size(); ++i) {
    for (const auto& [key, t] : state.layers[i]) {
      if (!t.defined()) continue;
      const std::string name = "layers." + std::to_string(i) + "." + key;
      pass.state[name] = cpu64(t);
      pass.devices.emplace(name, t.device());
    }
  }
  return pass;
}

class PluginsCuda : public ::testing::TestWithParam<VariantCase> {
 protected:
  void SetUp() override {
    MEMTX_REQUIRE_CUDA();
    if (!has_variants(GetParam().variants)) GTEST_SKIP() << "a plugin of " << GetParam().name << " is not built";
  }

  std::vector<std::string> overrides() const {
    auto o = GetParam().overrides;
    o.push_back("model.init_std=0.2");  // larger than the default: memories, gates and routers matter
    return o;
  }

  // Both passes, with the same checks of logits, loss and gradients.
  std::pair<Pass, Pass> compare(const std::vector<int64_t>& pieces, const std::string& what) {
    Fp32Exact fp32;
    ModelPair models = model_pair(overrides());
    for (const auto& p : models.cuda->parameters()) EXPECT_TRUE(p.device().is_cuda());
    const auto tokens = fixed_tokens(kBatch, kLength, 17);
    Pass cpu = run_pass(models.cpu, tokens, pieces);
    Pass cuda = run_pass(models.cuda, tokens, pieces);
    EXPECT_TRUE(all_finite(cuda.logits)) << what;
    const double logits_err = relative_error(cuda.logits, cpu.logits);
    EXPECT_LE(logits_err, kRtol) << what << ": logits";
    EXPECT_NEAR(cuda.loss, cpu.loss, kRtol * std::max(1.0, std::abs(cpu.loss))) << what << ": loss";
    EXPECT_EQ(cuda.aux.defined(), cpu.aux.defined()) << what << ": auxiliary loss";
    if (cuda.aux.defined() && cpu.aux.defined()) EXPECT_LE(relative_error(cuda.aux, cpu.aux, 1.0), kRtol) << what;
    std::cout << "[gpu] " << GetParam().name << " " << what << ": logits relative error " << logits_err
              << ", loss " << cuda.loss << " (CPU " << cpu.loss << ")\n";
    expect_same_gradients(cuda.grads, cpu.grads, kRtol, GetParam().name + " " + what);
    return {std::move(cpu), std::move(cuda)};
  }
};

TEST_P(PluginsCuda, WholeInputMatchesTheCpu) { compare({}, "whole input"); }

TEST_P(PluginsCuda, PiecesCarryingStateMatchTheCpuAndTheWholeInput) {
  auto [cpu, cuda] = compare(kPieces, "pieces 13,1,9,17");
  // The state the pieces carried: the same entries as on the CPU, every one on the GPU, the same values.
  std::set<std::string> cpu_keys, cuda_keys;
  for (const auto& [name, t] : cpu.state) cpu_keys.insert(name);
  for (const auto& [name, t] : cuda.state) cuda_keys.insert(name);
  EXPECT_EQ(cuda_keys, cpu_keys);
  for (const auto& [name, device] : cuda.devices)
    EXPECT_TRUE(device.is_cuda()) << "state " << name << " left the GPU: it is on " << device.str();
  for (const auto& [name, t] : cpu.state) {
    auto it = cuda.state.find(name);
    if (it == cuda.state.end()) continue;
    EXPECT_LE(relative_error(it->second, t, 1e-6), kRtol) << "state " << name;
  }
  // The pieces give the whole input's logits on the GPU (the state is carried, not restarted).
  Fp32Exact fp32;
  ModelPair models = model_pair(overrides());
  const auto tokens = fixed_tokens(kBatch, kLength, 17);
  Pass whole = run_pass(models.cuda, tokens, {});
  const double err = relative_error(cuda.logits, whole.logits);
  EXPECT_LE(err, kRtol) << "CUDA pieces vs CUDA whole input";
  std::cout << "[gpu] " << GetParam().name << ": " << cuda.state.size() << " state tensors on the GPU; pieces vs whole "
            << "input relative error " << err << "\n";
}

INSTANTIATE_TEST_SUITE_P(Variants, PluginsCuda, ::testing::ValuesIn(variant_cases()),
                         [](const ::testing::TestParamInfo<VariantCase>& info) { return info.param.name; });

}  // namespace
}  // namespace memtx::test::gpu
