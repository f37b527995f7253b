// bench/ssm_scan_bench.cpp: forward + backward time of the ssm plugin's chunked scan against the sequential
// reference loop on the CPU, batch 1, model width D 256 (d_inner 512 with expand 2, d_state 16), at 1k and
// 4k tokens: the scan alone, and the whole mixer (projections, conv, scan, gate). Median of the repeats
// after warm-up runs; one JSON line per (level, length) with tokens/s of each scan and their ratio (wall clock),
// plus the process CPU times, which a busy machine disturbs less.
// Usage: ssm_scan_bench [repeats (default 5)] [threads (default: LibTorch's)]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <memory>
#include <vector>

#include "memtx/config.hpp"
#include "selective_scan.hpp"
#include "ssm_mixer.hpp"

namespace {

using memtx::ssm::ScanKind;
constexpr int64_t kBatch = 1, kHidden = 256, kExpand = 2, kState = 16, kDtRank = 16, kConv = 4, kWarmup = 2;

// Process CPU time (all threads): on a busy machine it moves much less than the wall clock.
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

struct Timing {
  double wall_s, cpu_s;  // medians
};

Timing median_time(const std::function<void()>& body, int repeats) {
  for (int i = 0; i < kWarmup; ++i) body();
  std::vector<double> wall, cpu;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_seconds();
    body();
    cpu.push_back(cpu_seconds() - cpu_start);
    wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

void report(const char* level, int64_t tokens, Timing sequential, Timing chunked, int repeats) {
  const double n = double(kBatch * tokens);
  std::printf("{\"bench\": \"ssm_scan\", \"level\": \"%s\", \"pass\": \"forward+backward\", \"tokens\": %lld, "
              "\"batch\": %lld, \"hidden\": %lld, \"d_inner\": %lld, \"d_state\": %lld, \"threads\": %d, "
              "\"repeats\": %d, \"sequential_ms\": %.2f, \"chunked_ms\": %.2f, \"sequential_tokens_per_s\": %.0f, "
              "\"chunked_tokens_per_s\": %.0f, \"speedup\": %.2f, \"sequential_cpu_ms\": %.2f, "
              "\"chunked_cpu_ms\": %.2f, \"cpu_speedup\": %.2f}\n",
              level, (long long)tokens, (long long)kBatch, (long long)kHidden, (long long)(kExpand * kHidden),
              (long long)kState, at::get_num_threads(), repeats, sequential.wall_s * 1e3, chunked.wall_s * 1e3,
              n / sequential.wall_s, n / chunked.wall_s, sequential.wall_s / chunked.wall_s, sequential.cpu_s * 1e3,
              chunked.cpu_s * 1e3, sequential.cpu_s / chunked.cpu_s);
  std::fflush(stdout);
}

// The scan alone, on inputs shaped as the mixer makes them (dt = softplus of something near -2).
void bench_scan(int64_t tokens, int repeats) {
  const int64_t C = kExpand * kHidden;
  torch::manual_seed(0);
  auto leaf = [](torch::Tensor t) { return t.requires_grad_(true); };
  auto u = leaf(torch::randn({kBatch, tokens, C}));
  auto dt = leaf(torch::softplus(torch::randn({kBatch, tokens, C}) - 2.0));
  auto A = leaf(-torch::arange(1, kState + 1, torch::kFloat).repeat({C, 1}));
  auto Bm = leaf(torch::randn({kBatch, tokens, kState})), Cm = leaf(torch::randn({kBatch, tokens, kState}));
  auto h0 = torch::zeros({kBatch, C, kState});
  auto dy = torch::randn({kBatch, tokens, C});
  auto run = [&](ScanKind kind) {
    return median_time([&] {
      for (auto* t : {&u, &dt, &A, &Bm, &Cm}) t->mutable_grad() = torch::Tensor();
      auto out = memtx::ssm::selective_scan(kind, u, dt, A, Bm, Cm, h0);
      (out.y * dy).sum().backward();
    }, repeats);
  };
  const Timing seq = run(ScanKind::Sequential), chunked = run(ScanKind::Chunked);
  report("scan", tokens, seq, chunked, repeats);
}

// The whole mixer (in_proj, conv, x_proj, dt_proj, scan, gate, out_proj).
void bench_mixer(int64_t tokens, int repeats) {
  memtx::Config config(std::make_shared<memtx::Schema>(memtx::Schema::builtin()));
  config.set("attention.ssm_mamba_expand", kExpand);
  config.set("attention.ssm_d_state", kState);
  config.set("attention.ssm_dt_rank", kDtRank);
  config.set("attention.ssm_conv_kernel_size", kConv);
  memtx::AttentionSpec spec;
  spec.variant = "ssm";
  spec.hidden_dim = kHidden;
  spec.num_heads = 1;
  spec.num_kv_heads = 1;
  spec.head_dim = kHidden;
  spec.config = &config;
  torch::manual_seed(0);
  auto mixer = std::make_shared<memtx::ssm::SsmMixerImpl>(spec);
  mixer->reset_parameters(0.02);
  auto x = torch::randn({kBatch, tokens, kHidden}).requires_grad_(true);
  auto dy = torch::randn({kBatch, tokens, kHidden});
  auto run = [&](ScanKind kind) {
    mixer->set_scan(kind);
    return median_time([&] {
      mixer->zero_grad();
      x.mutable_grad() = torch::Tensor();
      memtx::AttentionContext ctx;
      (mixer->forward(x, ctx) * dy).sum().backward();
    }, repeats);
  };
  const Timing seq = run(ScanKind::Sequential), chunked = run(ScanKind::Chunked);
  report("mixer", tokens, seq, chunked, repeats);
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  if (argc > 2) at::set_num_threads(std::max(1, std::atoi(argv[2])));
  try {
    for (int64_t tokens : {1024, 4096}) {
      bench_scan(tokens, repeats);
      bench_mixer(tokens, repeats);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ssm_scan_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
