// bench/ssm_scan_bench.cpp: forward + backward time of the ssm plugin's chunked scan against the sequential
// reference loop, batch 1, model width D 256 (d_inner 512 with expand 2, d_state 16), at 1k and 4k tokens: the
// scan alone, and the whole mixer (projections, conv, scan, gate). On the CPU "chunked" is the CPU loop; with
// --device cuda both scans run on the GPU and "chunked" is the CUDA kernel (the device is synchronised before
// every clock read), and the scan lines also give the largest difference of the kernel's y and input gradients
// from the sequential scan's, relative to the largest entry. Median of the repeats after warm-up runs; one JSON
// line per (level, length) with tokens/s of each scan and their ratio (wall clock), plus the process CPU times,
// which a busy machine disturbs less.
// Usage: ssm_scan_bench [--device cpu|cuda] [repeats (default 5)] [threads (default: LibTorch's)]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "memtx/config.hpp"
#include "memtx/option.hpp"
#include "selective_scan.hpp"
#include "ssm/ssm_keys.hpp"
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

torch::Device g_device(torch::kCPU);  // --device

// Waits for the GPU's queued work, so that the clocks around a body measure it (nothing on the CPU).
void sync_device() {
  if (g_device.is_cuda()) torch::cuda::synchronize();
}

Timing median_time(const std::function<void()>& body, int repeats) {
  for (int i = 0; i < kWarmup; ++i) body();
  std::vector<double> wall, cpu;
  for (int i = 0; i < repeats; ++i) {
    sync_device();
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_seconds();
    body();
    sync_device();
    cpu.push_back(cpu_seconds() - cpu_start);
    wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

// extra: more JSON fields (", \"key\": value"), or empty.
void report(const char* level, int64_t tokens, Timing sequential, Timing chunked, int repeats,
            const std::string& extra = "") {
  const double n = double(kBatch * tokens);
  const std::string device = g_device.is_cuda() ? "cuda" : "cpu";
  std::printf("{\"bench\": \"ssm_scan\", \"level\": \"%s\", \"device\": \"%s\", \"pass\": \"forward+backward\", "
              "\"tokens\": %lld, \"batch\": %lld, \"hidden\": %lld, \"d_inner\": %lld, \"d_state\": %lld, \"threads\": %d, "
              "\"repeats\": %d, \"sequential_ms\": %.2f, \"chunked_ms\": %.2f, \"sequential_tokens_per_s\": %.0f, "
              "\"chunked_tokens_per_s\": %.0f, \"speedup\": %.2f, \"sequential_cpu_ms\": %.2f, "
              "\"chunked_cpu_ms\": %.2f, \"cpu_speedup\": %.2f%s}\n",
              level, device.c_str(), (long long)tokens, (long long)kBatch, (long long)kHidden,
              (long long)(kExpand * kHidden), (long long)kState, at::get_num_threads(), repeats, sequential.wall_s * 1e3, chunked.wall_s * 1e3,
              n / sequential.wall_s, n / chunked.wall_s, sequential.wall_s / chunked.wall_s, sequential.cpu_s * 1e3,
              chunked.cpu_s * 1e3, sequential.cpu_s / chunked.cpu_s, extra.c_str());
  std::fflush(stdout);
}

// max |a - b| / max |b| (b the reference).
double relative_diff(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = b.abs().max().item<double>();
  return (a.to(torch::kFloat) - b.to(torch::kFloat)).abs().max().item<double>() / (scale > 0 ? scale : 1.0);
}

// The scan alone, on inputs shaped as the mixer makes them (dt = softplus of something near -2).
void bench_scan(int64_t tokens, int repeats) {
  const int64_t C = kExpand * kHidden;
  torch::manual_seed(0);
  auto leaf = [](torch::Tensor t) { return t.to(g_device).requires_grad_(true); };
  auto u = leaf(torch::randn({kBatch, tokens, C}));
  auto dt = leaf(torch::softplus(torch::randn({kBatch, tokens, C}) - 2.0));
  auto A = leaf(-torch::arange(1, kState + 1, torch::kFloat).repeat({C, 1}));
  auto Bm = leaf(torch::randn({kBatch, tokens, kState})), Cm = leaf(torch::randn({kBatch, tokens, kState}));
  auto h0 = torch::zeros({kBatch, C, kState}).to(g_device);
  auto dy = torch::randn({kBatch, tokens, C}).to(g_device);
  torch::Tensor y;
  auto run = [&](ScanKind kind) {
    return median_time([&] {
      for (auto* t : {&u, &dt, &A, &Bm, &Cm}) t->mutable_grad() = torch::Tensor();
      auto out = memtx::ssm::selective_scan(kind, u, dt, A, Bm, Cm, h0);
      (out.y * dy).sum().backward();
      y = out.y;
    }, repeats);
  };
  // Each scan's y and input gradients as its last repeat left them.
  auto results = [&] {
    std::vector<torch::Tensor> r{y.detach().clone()};
    for (auto* t : {&u, &dt, &A, &Bm, &Cm}) r.push_back(t->grad().clone());
    return r;
  };
  const Timing seq = run(ScanKind::Sequential);
  const auto reference = results();
  const Timing chunked = run(ScanKind::Chunked);
  const auto fast = results();
  double worst = 0.0;
  for (size_t i = 0; i < fast.size(); ++i) worst = std::max(worst, relative_diff(fast[i], reference[i]));
  char extra[96];
  std::snprintf(extra, sizeof extra, ", \"max_rel_diff\": %.3g", worst);
  report("scan", tokens, seq, chunked, repeats, extra);
}

// The whole mixer (in_proj, conv, x_proj, dt_proj, scan, gate, out_proj).
void bench_mixer(int64_t tokens, int repeats) {
  auto schema = std::make_shared<memtx::Schema>(memtx::Schema::builtin());
  memtx::add_variant_keys(*schema, memtx::ssm::ssm_keys());  // the keys the ssm plugin declares
  memtx::Config config(schema);
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
  mixer->to(g_device);
  auto x = torch::randn({kBatch, tokens, kHidden}).to(g_device).requires_grad_(true);
  auto dy = torch::randn({kBatch, tokens, kHidden}).to(g_device);
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
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--device" && i + 1 < argc) {
      const std::string name = argv[++i];
      if (name != "cpu" && name != "cuda") {
        std::fprintf(stderr, "ssm_scan_bench: --device takes cpu or cuda, got '%s'\n", name.c_str());
        return 2;
      }
      g_device = torch::Device(name == "cuda" ? torch::kCUDA : torch::kCPU);
    } else if (arg.rfind("--", 0) == 0) {
      std::fprintf(stderr, "usage: ssm_scan_bench [--device cpu|cuda] [repeats] [threads]\n");
      return 2;
    } else {
      positional.push_back(arg);
    }
  }
  const int repeats = positional.size() > 0 ? std::max(1, std::atoi(positional[0].c_str())) : 5;
  if (positional.size() > 1) at::set_num_threads(std::max(1, std::atoi(positional[1].c_str())));
  if (g_device.is_cuda() && !torch::cuda::is_available()) {
    std::fprintf(stderr, "ssm_scan_bench: --device cuda, but no CUDA device is visible\n");
    return 1;
  }
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
