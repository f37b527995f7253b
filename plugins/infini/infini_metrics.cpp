// infini/infini_metrics.cpp: the logging of Infini-attention (infini_attention.logging, log_grad,
// log_segment_acts): per-head gate values, memory norms, write weights, segment activation statistics,
// gradient norms.
// forward() keeps detached tensors; numbers are made here, when the trainer asks.
#include "infini_attention.hpp"

namespace memtx::infini {

std::map<std::string, double> InfiniAttentionImpl::metrics() {
  std::map<std::string, double> out;
  if (!opt_.logging) return out;
  torch::NoGradGuard no_grad;
  auto gates = gate(balance.detach().to(torch::kFloat64).cpu(), opt_.gate);
  for (int64_t h = 0; h < gates.size(0); ++h) out["gate.head" + std::to_string(h)] = gates[h].item<double>();
  if (last_memory_.M.defined()) {
    auto m_norm = last_memory_.M.to(torch::kFloat64).pow(2).sum({2, 3}).sqrt().mean(0).cpu();  // [G]
    auto z_norm = last_memory_.z.to(torch::kFloat64).pow(2).sum(2).sqrt().mean(0).cpu();
    for (int64_t g = 0; g < m_norm.size(0); ++g) {
      out["memory_norm.kv" + std::to_string(g)] = m_norm[g].item<double>();
      out["z_norm.kv" + std::to_string(g)] = z_norm[g].item<double>();
    }
  }
  if (write_stats_.sum.defined() && write_stats_.tokens > 0) {
    auto mean = (write_stats_.sum / write_stats_.tokens).cpu(), open = (write_stats_.open / write_stats_.tokens).cpu();
    for (int64_t g = 0; g < mean.size(0); ++g) {
      out["write.mean.kv" + std::to_string(g)] = mean[g].item<double>();
      out["write.open.kv" + std::to_string(g)] = open[g].item<double>();
    }
  }
  for (size_t j = 0; j < segment_acts_.size(); ++j) {
    for (const auto& [name, value] : segment_acts_[j]) {
      out["segment" + std::to_string(j) + "." + name] = value.item<double>();
    }
  }
  if (opt_.log_grad) {
    auto add_grad = [&](const std::string& name, const torch::Tensor& p) {
      if (p.defined() && p.grad().defined()) out["grad_norm." + name] = p.grad().to(torch::kFloat64).norm().item<double>();
    };
    add_grad("balance", balance);
    add_grad("q_proj", q_proj->weight);
    add_grad("k_proj", k_proj->weight);
    add_grad("v_proj", v_proj->weight);
  }
  return out;
}

}  // namespace memtx::infini
