// tests/gpu/gpu_support.hpp: what the GPU tests share: the skip where no CUDA device is visible, a scope with
// TF32 off (fp32 comparisons against the CPU), tiny models built on the CPU and on CUDA with the same weights,
// and the relative errors the comparisons use.
#pragma once
#include <ATen/Context.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/test_support.hpp"

// First statement of every test that needs a GPU: without one (CI, this build machine) the test is skipped.
#define MEMTX_REQUIRE_CUDA()                                            \
  do {                                                                  \
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device"; \
  } while (0)

namespace memtx::test::gpu {

inline torch::Device cuda_device() { return torch::Device(torch::kCUDA, 0); }

// fp32 really in fp32 for its lifetime: cuBLAS matmuls and cuDNN convolutions (the ssm's conv1d) without TF32,
// whose 10-bit mantissa would dominate a 1e-4 comparison with the CPU. The previous settings come back at the end.
class Fp32Exact {
 public:
  Fp32Exact() : cublas_(at::globalContext().allowTF32CuBLAS()), cudnn_(at::globalContext().allowTF32CuDNN()) {
    at::globalContext().setAllowTF32CuBLAS(false);
    at::globalContext().setAllowTF32CuDNN(false);
  }
  ~Fp32Exact() {
    at::globalContext().setAllowTF32CuBLAS(cublas_);
    at::globalContext().setAllowTF32CuDNN(cudnn_);
  }
  Fp32Exact(const Fp32Exact&) = delete;
  Fp32Exact& operator=(const Fp32Exact&) = delete;

 private:
  bool cublas_, cudnn_;
};

// tiny_config (hidden 32, 4 heads, 2 layers, vocab 97) with these overrides, then model.device = device.
inline Config config_on(std::vector<std::string> overrides, const std::string& device) {
  overrides.push_back("model.device=" + device);
  return tiny_config(overrides);
}

// Copies every parameter and buffer of `from` into the tensor of the same name of `to` (any devices), and
// expects both models to hold the same names.
inline void copy_weights(torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto src_params = from.named_parameters();
  auto dst_params = to.named_parameters();
  EXPECT_EQ(src_params.size(), dst_params.size()) << "the two models have different parameters";
  for (auto& item : dst_params) {
    const torch::Tensor* src = src_params.find(item.key());
    if (!src) {
      ADD_FAILURE() << "parameter " << item.key() << " is missing from the source model";
      continue;
    }
    item.value().copy_(*src);
  }
  auto src_buffers = from.named_buffers();
  for (auto& item : to.named_buffers()) {
    const torch::Tensor* src = src_buffers.find(item.key());
    if (!src) {
      ADD_FAILURE() << "buffer " << item.key() << " is missing from the source model";
      continue;
    }
    item.value().copy_(*src);
  }
}

// A tiny model on the CPU and the same model (same config but model.device=cuda, the CPU model's weights
// copied in) on CUDA.
struct ModelPair {
  Transformer cpu{nullptr};
  Transformer cuda{nullptr};
};

inline ModelPair model_pair(const std::vector<std::string>& overrides) {
  ModelPair pair;
  pair.cpu = Transformer(config_on(overrides, "cpu"), plugin_registry());
  pair.cuda = Transformer(config_on(overrides, "cuda"), plugin_registry());
  copy_weights(*pair.cpu, *pair.cuda);
  return pair;
}

// Token ids [batch, length] below vocab, the same for a seed on every machine (a CPU generator of its own).
inline torch::Tensor fixed_tokens(int64_t batch, int64_t length, uint64_t seed, int64_t vocab = 97) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::randint(0, vocab, {batch, length}, gen, torch::kLong);
}

// max |a - b| / max(max |b|, floor), in float64 on the CPU (a and b on any devices).
inline double relative_error(const torch::Tensor& a, const torch::Tensor& b, double floor = 1e-12) {
  auto x = a.detach().to(torch::kCPU, torch::kFloat64);
  auto y = b.detach().to(torch::kCPU, torch::kFloat64);
  if (x.sizes() != y.sizes()) return std::numeric_limits<double>::infinity();
  if (y.numel() == 0) return 0.0;
  const double scale = std::max(y.abs().max().item<double>(), floor);
  return (x - y).abs().max().item<double>() / scale;
}

inline bool all_finite(const torch::Tensor& t) { return torch::isfinite(t.detach()).all().item<bool>(); }

// Gradients by parameter name (float64 CPU copies) of every parameter that has one.
inline std::map<std::string, torch::Tensor> gradients(torch::nn::Module& model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : model.named_parameters())
    if (item.value().grad().defined()) out[item.key()] = item.value().grad().detach().to(torch::kCPU, torch::kFloat64);
  return out;
}

// Expects the same gradient names and every CUDA gradient within rtol of the CPU's, relative to the larger of the
// tensor's own size (max |g|) and 1e-3 of the largest gradient of the model (a tensor whose gradient is tiny next
// to the rest, e.g. zero up to rounding, is compared at that scale rather than against its own rounding noise).
inline void expect_same_gradients(const std::map<std::string, torch::Tensor>& cuda,
                                  const std::map<std::string, torch::Tensor>& cpu, double rtol,
                                  const std::string& what) {
  std::set<std::string> cuda_names, cpu_names;
  for (const auto& [name, g] : cuda) cuda_names.insert(name);
  for (const auto& [name, g] : cpu) cpu_names.insert(name);
  EXPECT_EQ(cuda_names, cpu_names) << what << ": parameters with a gradient differ between CUDA and the CPU";
  double largest = 0.0;
  for (const auto& [name, g] : cpu) largest = std::max(largest, g.numel() ? g.abs().max().item<double>() : 0.0);
  ASSERT_GT(largest, 0.0) << what << ": every gradient is zero; the comparison would prove nothing";
  double worst = 0.0;
  std::string worst_name;
  for (const auto& [name, g] : cpu) {
    auto it = cuda.find(name);
    if (it == cuda.end()) continue;
    EXPECT_TRUE(all_finite(it->second)) << what << ": CUDA gradient of " << name << " is not finite";
    const double err = relative_error(it->second, g, 1e-3 * largest);
    EXPECT_LE(err, rtol) << what << ": gradient of " << name;
    if (err > worst) {
      worst = err;
      worst_name = name;
    }
  }
  std::cout << "[gpu] " << what << ": " << cpu.size() << " gradients, worst relative error " << worst
            << (worst_name.empty() ? "" : " (" + worst_name + ")") << "\n";
}

}  // namespace memtx::test::gpu
