// tests/gpu/inference_cuda_test.cpp: inference on CUDA. Generation with caches (infer/generate.hpp) gives the CPU's
// greedy tokens on the same weights for a causal model (KV cache, GQA) and mla models (latent and expanded caches);
// a streaming session (infer/session.hpp) on an infini model takes 64000 tokens in pieces of 1000 with bounded GPU
// memory: the CUDA caching allocator's allocated bytes after 8000 and after 64000 tokens agree within 5%, the
// state stays on the GPU, and the logits stay finite (the first piece's equal the CPU session's).
#include <vector>

#include "gpu_support.hpp"
#include "infer/generate.hpp"
#include "infer/session.hpp"

#if __has_include(<c10/cuda/CUDACachingAllocator.h>)
#include <c10/cuda/CUDACachingAllocator.h>
#define MEMTX_TEST_CUDA_ALLOCATOR_STATS 1
#endif

namespace memtx::test::gpu {
namespace {

struct GenerateCase {
  const char* name;
  std::vector<std::string> variants;
  std::vector<std::string> overrides;
};

std::vector<GenerateCase> generate_cases() {
  const std::vector<std::string> mla = {"attention.attention_variant=mla", "attention.mla_latent_dim=8",
                                        "attention.mla_rotary_dim=4"};
  auto plus = [](std::vector<std::string> base, const std::string& more) {
    base.push_back(more);
    return base;
  };
  return {
      {"causal_gqa", {"causal"}, {"attention.attention_variant=causal", "attention.n_kv_group=2"}},
      {"mla_latent_cache", {"mla"}, plus(mla, "attention.mla_cache=latent")},
      {"mla_expanded_cache", {"mla"}, plus(mla, "attention.mla_cache=expanded")},
  };
}

TEST(InferenceCuda, CachedGreedyGenerationGivesTheCpuTokens) {
  MEMTX_REQUIRE_CUDA();
  Fp32Exact fp32;
  const std::vector<int64_t> prompt = {5, 17, 42, 8, 91, 33, 2, 64, 12, 7, 70};
  int tested = 0;
  for (const auto& c : generate_cases()) {
    if (!has_variants(c.variants)) {
      std::cout << "[gpu] skip " << c.name << ": variant not built\n";
      continue;
    }
    SCOPED_TRACE(c.name);
    // Larger weights than the default (std 0.2): the top logits are well apart, so a rounding difference
    // between the devices cannot change an argmax.
    auto overrides = c.overrides;
    overrides.push_back("model.init_std=0.2");
    ModelPair models = model_pair(overrides);
    models.cpu->eval();
    models.cuda->eval();

    {  // The prefill's logits agree.
      torch::NoGradGuard no_grad;
      auto ids = torch::tensor(prompt, torch::kLong).unsqueeze(0);
      ModelState cpu_state = models.cpu->initial_state(1), cuda_state = models.cuda->initial_state(1);
      auto cpu_logits = models.cpu->forward(ids, &cpu_state, /*use_cache=*/true);
      auto cuda_logits = models.cuda->forward(ids, &cuda_state, /*use_cache=*/true);
      EXPECT_TRUE(cuda_logits.device().is_cuda());
      EXPECT_LE(relative_error(cuda_logits, cpu_logits), 1e-4);
      for (const auto& layer : cuda_state.layers)
        for (const auto& [key, t] : layer)
          if (t.defined()) EXPECT_TRUE(t.device().is_cuda()) << "cache " << key << " is on " << t.device().str();
    }

    infer::GenerateOptions options;
    options.max_new_tokens = 24;
    options.sampling.temperature = 0.0;
    const auto on_cpu = infer::generate(*models.cpu, prompt, options);
    const auto on_cuda = infer::generate(*models.cuda, prompt, options);
    ASSERT_EQ(on_cpu.tokens.size(), 24u);
    EXPECT_EQ(on_cuda.tokens, on_cpu.tokens);
    EXPECT_EQ(on_cuda.reason, infer::StopReason::MaxTokens);
    std::cout << "[gpu] generate " << c.name << " on CUDA:";
    for (auto t : on_cuda.tokens) std::cout << " " << t;
    std::cout << "\n";
    ++tested;
  }
  EXPECT_GE(tested, 1);
}

#if defined(MEMTX_TEST_CUDA_ALLOCATOR_STATS)
// Bytes held by live tensors on the GPU (the caching allocator's "allocated", not what it keeps reserved).
int64_t cuda_allocated_bytes() {
  torch::cuda::synchronize();
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(0);
  return stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].current;
}
#endif

TEST(InferenceCuda, InfiniSessionOver64kTokensKeepsGpuMemoryBounded) {
  MEMTX_REQUIRE_CUDA();
#if !defined(MEMTX_TEST_CUDA_ALLOCATOR_STATS)
  GTEST_SKIP() << "this LibTorch has no c10/cuda/CUDACachingAllocator.h";
#else
  if (!has_variants({"infini"})) GTEST_SKIP() << "infini not built";
  Fp32Exact fp32;
  ModelPair models = model_pair({"attention.attention_variant=infini", "attention.n_kv_group=2",
                                 "infini_attention.segment_length=64", "infini_attention.balance_init_type=normal",
                                 "model.init_std=0.2"});
  constexpr int64_t kPiece = 1000, kTotal = 64000, kFirstMeasure = 8000;
  const auto stream = fixed_tokens(1, kTotal, 23).view({-1});
  auto piece_at = [&](int64_t start) {
    const int64_t* p = stream.data_ptr<int64_t>() + start;
    return std::vector<int64_t>(p, p + kPiece);
  };

  infer::Session session(*models.cuda);
  // The first piece gives the CPU session's logits.
  {
    infer::Session cpu_session(*models.cpu);
    auto cpu_logits = cpu_session.feed(piece_at(0));
    auto cuda_logits = session.feed(piece_at(0));
    EXPECT_TRUE(cuda_logits.device().is_cuda());
    EXPECT_LE(relative_error(cuda_logits, cpu_logits), 1e-4) << "the first 1000 tokens";
  }
  torch::Tensor logits;
  int64_t at_first = 0, state_at_first = 0;
  for (int64_t start = kPiece; start < kTotal; start += kPiece) {
    logits = session.feed(piece_at(start));
    if (start + kPiece == kFirstMeasure) {
      at_first = cuda_allocated_bytes();
      state_at_first = session.state_bytes();
    }
  }
  const int64_t at_end = cuda_allocated_bytes();
  ASSERT_EQ(session.position(), kTotal);
  ASSERT_GT(at_first, 0);
  std::cout << "[gpu] infini session: GPU memory allocated after " << kFirstMeasure << " tokens " << at_first
            << " bytes, after " << kTotal << " tokens " << at_end << " bytes; state " << state_at_first << " -> "
            << session.state_bytes() << " bytes\n";
  EXPECT_LE(std::abs(static_cast<double>(at_end - at_first)), 0.05 * static_cast<double>(at_first))
      << "allocated GPU memory grew from " << at_first << " to " << at_end << " bytes between " << kFirstMeasure
      << " and " << kTotal << " tokens";
  EXPECT_EQ(session.state_bytes(), state_at_first) << "the same position modulo the segment length, the same state";
  for (const auto& layer : session.state().layers)
    for (const auto& [key, t] : layer)
      if (t.defined()) EXPECT_TRUE(t.device().is_cuda()) << "state " << key << " is on " << t.device().str();
  ASSERT_TRUE(logits.defined());
  EXPECT_TRUE(logits.device().is_cuda());
  EXPECT_TRUE(all_finite(logits)) << "the last piece's logits";
  EXPECT_TRUE(all_finite(session.last_logits())) << "the logits after the last token";
  // The long stream is remembered: its next piece differs from the same piece fed to a fresh session.
  auto next = fixed_tokens(1, 64, 29).view({-1});
  std::vector<int64_t> tail(next.data_ptr<int64_t>(), next.data_ptr<int64_t>() + 64);
  infer::Session fresh(*models.cuda);
  EXPECT_GT(relative_error(session.feed(tail), fresh.feed(tail)), 1e-4);
#endif
}

}  // namespace
}  // namespace memtx::test::gpu
