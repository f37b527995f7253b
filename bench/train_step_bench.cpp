// bench/train_step_bench.cpp: training throughput of a memtx model, one optimizer step at a time, on the CPU or
// a CUDA device, doing exactly what the memtx trainer does per step (its CPU peer is bench/train_step_peer.py,
// the same model in PyTorch from Python, and bench/run_train_bench.sh runs both and prints the ratio; its GPU
// peers are bench/gpu_train_peer.py's GPT and transformers models, run by scripts/gpu-check.sh):
//   {autocast scope (train/precision.hpp), as the trainer opens it
//     logits = model(x)                                 memtx::Transformer built from a Config (registry)
//     loss   = masked_lm_loss_sum(logits, y, w) / count model/lm_loss.hpp (+ the model's auxiliary loss, if any)
//   }
//   loss.backward()
//   first_nonfinite_grad(params)                        the trainer's skip-step check (train/grad_utils.hpp)
//   clip_grad_norm(params, max_grad_norm)               train/grad_utils.hpp
//   optimizer.step()                                    make_optimizer(build_param_groups(...)), AdamW
//   optimizer.zero_grad()                               (sets the gradients to none, the 2.x default)
// Model: L layers x D hidden, H heads (kv heads = H unless --kv-heads), SwiGLU MLP (--mlp gelu: the GPT MLP;
// --no-mlp: mixer-only blocks, as Mamba), RMSNorm (--norm layer: LayerNorm), RoPE (half layout), the attention
// variant --variant (attention.attention_variant: causal, infini, linear, ssm, mla, co4, ...; the fused SDPA
// path unless --explicit-attention), tied embeddings, float32 parameters. --precision bf16 runs forward and loss
// under bf16 autocast as training.mixed_precision bf16 does (on the CPU only where the trainer would: see
// precision.hpp; "precision" in the JSON says what ran). --segment-length N sets infini_attention.segment_length;
// --set KEY=VALUE (repeatable) sets any other config key, after everything else.
// On the CPU, before building the model it calls train::retain_freed_host_memory() (train/host_memory.hpp), as a
// training run should, so steps reuse freed memory instead of faulting in fresh pages; --default-malloc leaves
// glibc's settings alone.
// --device cuda: the model and batches on the GPU, TF32 allowed for float32 matrix products; the clock is read
// after torch::cuda::synchronize() at the start and the end of every step (with --phase-sync also between
// phases, so phase_ms are device times; without it they are the host's dispatch times, "phase_timing": "host").
// Adds the GPU's peak memory (CUDA caching allocator: allocated and reserved), the FLOPs per token
// 6 N + 12 L D T (N the parameter count, T the sequence length; shared/docs/performance.md) and the MFU against
// --peak-tflops (default 989: the H100's dense bf16 peak). Without a CUDA device it prints
// {"bench": "train_step", ..., "skipped": "no CUDA device"} and exits 0.
// Warm-up steps are not timed; the step time reported is the median of the timed steps, tokens/s = B*T / it.
// Phases are timed with a steady clock between calls (on the CPU every op has finished when it returns);
// cpu_ms_per_step is the median process CPU time per step (all threads), a figure less disturbed than the
// wall clock when other programs share the cores; page_faults_per_step counts the minor page faults (fresh
// pages taken from the kernel) of a timed step.
// Prints one JSON line on stdout and a readable line on stderr. Plugins come from the build tree (or
// MEMTX_PLUGIN_PATH).
// --threads N sets at::set_num_threads(N) (LibTorch's OpenMP pool) and OpenBLAS's pool to N.
// Usage: train_step_bench [--threads N] [--steps N] [--warmup N] [--batch N] [--seq N] [--hidden N]
//          [--layers N] [--heads N] [--kv-heads N] [--intermediate N] [--vocab N] [--lr X] [--weight-decay X]
//          [--max-grad-norm X] [--explicit-attention] [--untied] [--default-malloc]
//          [--device cpu|cuda] [--precision fp32|bf16] [--variant NAME] [--mlp swiglu|gelu] [--no-mlp]
//          [--norm rms|layer] [--segment-length N] [--set KEY=VALUE]... [--peak-tflops X] [--phase-sync]
//          [--label TEXT]
#include <dlfcn.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>

#include "model/transformer.hpp"
#include "plugin/registry.hpp"
#include "train/grad_utils.hpp"
#include "train/host_memory.hpp"
#include "model/lm_loss.hpp"
#include "train/optimizer.hpp"
#include "train/param_groups.hpp"
#include "train/precision.hpp"

// The CUDA caching allocator's statistics and the device's name: only with a CUDA LibTorch (and the CUDA
// headers it needs); without them a --device cuda run reports no GPU memory.
#if defined(__has_include)
#if __has_include(<c10/cuda/CUDACachingAllocator.h>) && __has_include(<ATen/cuda/CUDAContext.h>) && \
    __has_include(<cuda_runtime_api.h>)
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#define MEMTX_BENCH_CUDA_STATS 1
#endif
#endif

namespace {

struct Options {
  int64_t threads = 0;  // 0: leave LibTorch's default
  int64_t steps = 10, warmup = 3;
  int64_t batch = 8, seq = 256;
  int64_t hidden = 256, layers = 4, heads = 4, kv_heads = 0, intermediate = 704, vocab = 4096;
  double lr = 1e-3, weight_decay = 0.1, max_grad_norm = 1.0;
  bool explicit_attention = false, untied = false, default_malloc = false;
  std::string device = "cpu", precision = "fp32", variant = "causal", mlp = "swiglu", norm = "rms", label;
  bool use_mlp = true, phase_sync = false;
  int64_t segment_length = 0;  // 0: the config's default
  double peak_tflops = 989.0;  // H100 SXM dense bf16
  std::vector<std::string> overrides;  // --set KEY=VALUE, in order
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("option " + a + " needs a value");
      return argv[++i];
    };
    auto int_opt = [&](int64_t& v, int64_t min) {
      v = std::stoll(next());
      if (v < min) throw std::runtime_error("option " + a + " must be >= " + std::to_string(min));
    };
    if (a == "--threads") int_opt(o.threads, 0);
    else if (a == "--steps") int_opt(o.steps, 1);
    else if (a == "--warmup") int_opt(o.warmup, 0);
    else if (a == "--batch") int_opt(o.batch, 1);
    else if (a == "--seq") int_opt(o.seq, 1);
    else if (a == "--hidden") int_opt(o.hidden, 1);
    else if (a == "--layers") int_opt(o.layers, 1);
    else if (a == "--heads") int_opt(o.heads, 1);
    else if (a == "--kv-heads") int_opt(o.kv_heads, 0);
    else if (a == "--intermediate") int_opt(o.intermediate, 1);
    else if (a == "--vocab") int_opt(o.vocab, 2);
    else if (a == "--lr") o.lr = std::stod(next());
    else if (a == "--weight-decay") o.weight_decay = std::stod(next());
    else if (a == "--max-grad-norm") o.max_grad_norm = std::stod(next());
    else if (a == "--explicit-attention") o.explicit_attention = true;
    else if (a == "--untied") o.untied = true;
    else if (a == "--default-malloc") o.default_malloc = true;
    else if (a == "--device") {
      o.device = next();
      if (o.device != "cpu" && o.device != "cuda") throw std::runtime_error("--device must be cpu or cuda, got '" + o.device + "'");
    } else if (a == "--precision") {
      o.precision = next();
      if (o.precision != "fp32" && o.precision != "bf16")
        throw std::runtime_error("--precision must be fp32 or bf16, got '" + o.precision + "'");
    } else if (a == "--variant") o.variant = next();
    else if (a == "--mlp") {
      o.mlp = next();
      if (o.mlp != "swiglu" && o.mlp != "gelu") throw std::runtime_error("--mlp must be swiglu or gelu, got '" + o.mlp + "'");
    } else if (a == "--no-mlp") o.use_mlp = false;
    else if (a == "--norm") {
      o.norm = next();
      if (o.norm != "rms" && o.norm != "layer") throw std::runtime_error("--norm must be rms or layer, got '" + o.norm + "'");
    } else if (a == "--segment-length") int_opt(o.segment_length, 1);
    else if (a == "--set") {
      o.overrides.push_back(next());
      if (o.overrides.back().find('=') == std::string::npos)
        throw std::runtime_error("--set expects KEY=VALUE, got '" + o.overrides.back() + "'");
    } else if (a == "--peak-tflops") {
      o.peak_tflops = std::stod(next());
      if (!(o.peak_tflops > 0)) throw std::runtime_error("--peak-tflops must be > 0");
    } else if (a == "--phase-sync") o.phase_sync = true;
    else if (a == "--label") o.label = next();
    else throw std::runtime_error("unknown option '" + a + "' (see the usage at the top of train_step_bench.cpp)");
  }
  if (o.kv_heads == 0) o.kv_heads = o.heads;
  return o;
}

memtx::Config make_config(const memtx::Registry& registry, const Options& o) {
  memtx::Config c(registry.schema());
  c.set("model.hidden_dim", o.hidden);
  c.set("model.num_heads", o.heads);
  c.set("model.num_layers", o.layers);
  c.set("model.intermediate_dim", o.intermediate);
  c.set("model.vocab_size", o.vocab);
  c.set("model.max_seq_len", std::max<int64_t>(o.seq, 256));
  c.set("model.mlp_type", o.mlp);
  c.set("model.use_mlp", o.use_mlp);
  c.set("model.use_rms_norm", o.norm == "rms");
  c.set("model.use_rope", true);
  c.set("model.rope_layout", std::string("half"));
  c.set("model.tie_embeddings", !o.untied);
  c.set("model.device", o.device);
  c.set("model.dtype", std::string("float32"));
  c.set("memory.vanilla_mode", true);
  c.set("attention.attention_variant", o.variant);
  if (o.segment_length > 0) c.set("infini_attention.segment_length", o.segment_length);
  if (o.kv_heads != o.heads) c.set("attention.n_kv_group", o.kv_heads);
  c.set("attention.disable_flash_attention", o.explicit_attention);
  c.set("training.optimizer", std::string("adamw"));
  c.set("training.base_model_lr", o.lr);
  c.set("training.weight_decay", o.weight_decay);
  c.set("training.max_grad_norm", o.max_grad_norm);
  c.set("training.mixed_precision", std::string(o.precision == "bf16" ? "bf16" : "no"));
  for (const auto& assignment : o.overrides) c.apply_override(assignment);
  return c;
}

// Random token rows of length T + 1, every target counted (mask 1), through the trainer's batch conversion.
memtx::LmBatch random_batch(const Options& o, uint64_t seed, const torch::Device& device) {
  torch::manual_seed(seed);
  auto tokens = torch::randint(0, o.vocab, {o.batch * (o.seq + 1)}, torch::kLong);
  memtx::data::Batch b;
  b.tokens.assign(tokens.data_ptr<int64_t>(), tokens.data_ptr<int64_t>() + tokens.numel());
  b.mask.assign(b.tokens.size(), 1);
  b.batch = o.batch;
  b.length = o.seq;
  return memtx::to_lm_batch(b, device);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

long minor_faults() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

double peak_rss_mb() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

using Clock = std::chrono::steady_clock;
double ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

// LibTorch's at::set_num_threads sizes its OpenMP pool only; OpenBLAS (the pthread build Debian ships) keeps
// its own pool, OPENBLAS_NUM_THREADS or all cores. Set it to the same count when OpenBLAS is the BLAS in use.
// Returns OpenBLAS's thread count afterwards, or -1 when this process has no OpenBLAS.
int set_blas_threads(int n) {
  using SetFn = void (*)(int);
  using GetFn = int (*)();
  auto set = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  auto get = reinterpret_cast<GetFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  if (set && n > 0) set(n);
  return get ? get() : -1;
}

double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

// The GPU's statistics of a --device cuda run (empty without a CUDA LibTorch).
struct GpuInfo {
  std::string name;
  double peak_allocated_mb = -1, peak_reserved_mb = -1;
};

void reset_gpu_peak() {
#ifdef MEMTX_BENCH_CUDA_STATS
  c10::cuda::CUDACachingAllocator::resetPeakStats(c10::cuda::current_device());
#endif
}

GpuInfo read_gpu_info() {
  GpuInfo info;
#ifdef MEMTX_BENCH_CUDA_STATS
  info.name = at::cuda::getCurrentDeviceProperties()->name;
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(c10::cuda::current_device());
  const auto aggregate = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
  info.peak_allocated_mb = double(stats.allocated_bytes[aggregate].peak) / (1024.0 * 1024.0);
  info.peak_reserved_mb = double(stats.reserved_bytes[aggregate].peak) / (1024.0 * 1024.0);
#endif
  return info;
}

int run(const Options& o) {
  const bool cuda = o.device == "cuda";
  if (cuda && !torch::cuda::is_available()) {
    nlohmann::json j = {{"bench", "train_step"}, {"impl", "memtx"}, {"device", "cuda"}, {"variant", o.variant},
                        {"skipped", "no CUDA device"}};
    if (!o.label.empty()) j["label"] = o.label;
    std::printf("%s\n", j.dump().c_str());
    std::fprintf(stderr, "train_step_bench: no CUDA device visible; skipped\n");
    return 0;
  }
  if (o.threads > 0) at::set_num_threads(static_cast<int>(o.threads));
  const int blas_threads = set_blas_threads(static_cast<int>(o.threads));
  const bool retained = !cuda && !o.default_malloc && memtx::train::retain_freed_host_memory();
  if (cuda) {
    // TF32 for float32 matrix products and convolutions (autocast runs the big ones in bf16 anyway).
    at::globalContext().setFloat32MatmulPrecision("high");
    at::globalContext().setAllowTF32CuDNN(true);
  }
  memtx::Registry registry;
  registry.load_default_plugins();
  if (!registry.find(o.variant)) {
    std::fprintf(stderr, "train_step_bench: no '%s' variant found (build memtx_plugins or set MEMTX_PLUGIN_PATH)\n",
                 o.variant.c_str());
    return 1;
  }
  const torch::Device device = cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  const memtx::Config config = make_config(registry, o);
  memtx::Transformer model(config, registry);
  model->train();
  const auto precision = memtx::train::resolve_precision(config.get_string("training.mixed_precision"), device);
  if (!precision.note.empty()) std::fprintf(stderr, "train_step_bench: %s\n", precision.note.c_str());

  const auto groups = memtx::train::build_param_groups(*model, memtx::train::param_group_settings(config));
  const auto params = memtx::train::grouped_parameters(groups);
  const auto settings = memtx::train::optimizer_settings(config);
  auto optimizer = memtx::train::make_optimizer(groups, settings);
  const double max_grad_norm = config.get_float("training.max_grad_norm");
  int64_t n_params = 0;
  for (const auto& [name, p] : params) n_params += p.numel();

  std::vector<memtx::LmBatch> batches;
  for (uint64_t i = 0; i < 4; ++i) batches.push_back(random_batch(o, 1000 + i, device));
  if (cuda) {
    torch::cuda::synchronize();
    reset_gpu_peak();
  }

  const char* phase_names[] = {"forward", "loss", "backward", "nonfinite_check", "clip", "optimizer", "zero_grad"};
  constexpr int kPhases = 7;
  // On the GPU the clock is read after a synchronize: at the step's ends always, between phases with --phase-sync.
  auto mark = [&](bool boundary) {
    if (cuda && (boundary || o.phase_sync)) torch::cuda::synchronize();
    return Clock::now();
  };
  std::map<std::string, std::vector<double>> phases;
  std::vector<double> step_ms, cpu_ms;
  long faults_timed = 0;
  double loss_first = 0, loss_last = 0;
  for (int64_t step = 0; step < o.warmup + o.steps; ++step) {
    const auto& b = batches[step % batches.size()];
    Clock::time_point t[kPhases + 1];
    if (cuda) torch::cuda::synchronize();
    const double cpu0 = process_cpu_ms();
    const long faults0 = minor_faults();
    t[0] = Clock::now();
    torch::Tensor loss;
    {
      memtx::train::AutocastScope autocast(precision, device);
      auto logits = model->forward(b.inputs);
      t[1] = mark(false);
      loss = memtx::masked_lm_loss_sum(logits, b.targets, b.weights) / double(b.target_count);
      const torch::Tensor& aux = model->auxiliary_loss();  // the trainer adds the layers' losses (none by default)
      if (aux.defined()) loss = loss + aux.to(torch::kFloat32);
      t[2] = mark(false);
    }
    loss.backward();
    t[3] = mark(false);
    if (auto bad = memtx::train::first_nonfinite_grad(params)) throw std::runtime_error("non-finite gradient in " + *bad);
    t[4] = mark(false);
    memtx::train::clip_grad_norm(params, max_grad_norm);
    t[5] = mark(false);
    optimizer->step();
    t[6] = mark(false);
    optimizer->zero_grad();
    t[7] = mark(true);
    const double cpu1 = process_cpu_ms();
    const long faults1 = minor_faults();
    const double value = loss.item<double>();
    if (step == 0) loss_first = value;
    loss_last = value;
    if (step < o.warmup) continue;
    step_ms.push_back(ms(t[0], t[kPhases]));
    cpu_ms.push_back(cpu1 - cpu0);
    faults_timed += faults1 - faults0;
    for (int k = 0; k < kPhases; ++k) phases[phase_names[k]].push_back(ms(t[k], t[k + 1]));
  }

  const int64_t tokens_per_step = o.batch * o.seq;
  const double step_median = median(step_ms);
  const double step_mean = std::accumulate(step_ms.begin(), step_ms.end(), 0.0) / double(step_ms.size());
  const double tokens_per_s = double(tokens_per_step) / (step_median / 1000.0);
  nlohmann::json phase_json;
  for (const char* name : phase_names) phase_json[name] = median(phases[name]);
  const bool fused = !o.explicit_attention;
  nlohmann::json j = {
      {"bench", "train_step"}, {"impl", "memtx"}, {"device", o.device}, {"dtype", "float32"},
      {"threads", at::get_num_threads()}, {"blas_threads", blas_threads}, {"libtorch", TORCH_VERSION},
      {"batch", o.batch}, {"seq_len", o.seq}, {"hidden", o.hidden}, {"layers", o.layers}, {"heads", o.heads},
      {"kv_heads", o.kv_heads}, {"intermediate", o.intermediate}, {"vocab", o.vocab},
      {"tie_embeddings", !o.untied}, {"attention", fused ? "sdpa" : "explicit"}, {"parameters", n_params},
      {"optimizer", memtx::train::optimizer_kind_name(settings.kind)}, {"lr", o.lr},
      {"weight_decay", o.weight_decay}, {"beta1", settings.beta1}, {"beta2", settings.beta2}, {"eps", settings.eps},
      {"max_grad_norm", max_grad_norm}, {"param_groups", groups.size()},
      {"warmup_steps", o.warmup}, {"steps", o.steps}, {"tokens_per_step", tokens_per_step},
      {"ms_per_step", step_median}, {"ms_per_step_mean", step_mean}, {"cpu_ms_per_step", median(cpu_ms)},
      {"host_memory", retained ? "retained" : "default"},
      {"page_faults_per_step", double(faults_timed) / double(o.steps)},
      {"tokens_per_s", tokens_per_s}, {"phase_ms", phase_json},
      {"loss_first", loss_first}, {"loss_last", loss_last}, {"peak_rss_mb", peak_rss_mb()},
      {"variant", o.variant}, {"precision", precision.name}, {"mlp", o.use_mlp ? o.mlp : "none"}, {"norm", o.norm}};
  if (!o.label.empty()) j["label"] = o.label;
  if (!precision.note.empty()) j["precision_note"] = precision.note;
  if (config.get_string("attention.attention_variant") == "infini" || o.segment_length > 0)
    j["segment_length"] = config.get_int("infini_attention.segment_length");
  if (!o.overrides.empty()) j["set"] = o.overrides;
  if (cuda) {
    const GpuInfo gpu = read_gpu_info();
    // 6 N + 12 L D T FLOPs per token (forward and backward; shared/docs/performance.md), against the peak.
    const double flops_per_token = 6.0 * double(n_params) + 12.0 * double(o.layers * o.hidden * o.seq);
    j["gpu"] = gpu.name;
    j["tf32"] = true;
    j["phase_timing"] = o.phase_sync ? "device" : "host";
    j["flops_per_token"] = flops_per_token;
    j["peak_tflops"] = o.peak_tflops;
    j["mfu"] = tokens_per_s * flops_per_token / (o.peak_tflops * 1e12);
    j["peak_gpu_allocated_mb"] = gpu.peak_allocated_mb;
    j["peak_gpu_reserved_mb"] = gpu.peak_reserved_mb;
  }
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "memtx: %.0f tokens/s, %.1f ms/step (median of %lld), %s %s %s, %lld params, loss %.4f -> %.4f",
               tokens_per_s, step_median, static_cast<long long>(o.steps), o.device.c_str(), precision.name.c_str(),
               o.variant.c_str(), static_cast<long long>(n_params), loss_first, loss_last);
  if (cuda) std::fprintf(stderr, ", MFU %.1f%%\n", 100.0 * j["mfu"].get<double>());
  else std::fprintf(stderr, ", %d threads\n", at::get_num_threads());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_step_bench: %s\n", e.what());
    return 1;
  }
}
