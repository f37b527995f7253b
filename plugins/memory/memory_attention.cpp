// memory/memory_attention.cpp: the memory cross-attention layer (equations in memory_attention.hpp).
#include "memory_attention.hpp"

#include <memtx/error.hpp>

#include <cmath>

#include "memory_router.hpp"

namespace memtx::memory {
namespace {

[[noreturn]] void bad(const std::string& message) { throw Error(StatusCode::Config, "memory: " + message); }

}  // namespace

MemoryOptions MemoryOptions::from_spec(const AttentionSpec& spec) {
  const Config& c = *spec.config;
  MemoryOptions o;
  o.bank.num_tokens = c.get_int("memory.num_memory_tokens");
  o.bank.dim = c.get_opt_int("memory.memory_dim").value_or(spec.hidden_dim);
  if (c.get_bool("memory.use_low_rank_memory")) {
    o.bank.low_rank = c.get_string("memory.low_rank_mode");
    o.bank.rank = c.get_int("memory.memory_rank");
  }
  o.bank.quant_bits = c.get_bool("memory.quantize_memory") ? c.get_int("memory.memory_quant_bits") : 0;
  o.bank.init_std = c.get_float("memory.memory_init_std");
  o.projection_rank = c.get_bool("memory.use_low_rank_projections") ? c.get_int("memory.projection_rank") : 0;
  o.wo_init_zero = c.get_bool("memory.wo_init_zero");
  o.chapters = c.get_bool("memory.use_chapters");
  if (o.bank.quant_bits != 0 && o.bank.quant_bits != 4 && o.bank.quant_bits != 8)
    bad("memory.memory_quant_bits = " + std::to_string(o.bank.quant_bits) + ": expected 4 or 8");
  if (spec.num_kv_heads < 1 || spec.num_heads % spec.num_kv_heads != 0)
    bad("num_heads " + std::to_string(spec.num_heads) + " is not divisible by the kv heads " +
        std::to_string(spec.num_kv_heads) + " (attention.n_kv_group)");
  if (o.chapters) {
    o.num_chapters = c.get_int("memory.num_chapters");
    o.tokens_per_chapter = c.get_opt_int("memory.tokens_per_chapter").value_or(o.bank.num_tokens / o.num_chapters);
    o.top_k = c.get_int("memory.top_k_chapters");
    if (o.tokens_per_chapter < 1 || o.tokens_per_chapter * o.num_chapters > o.bank.num_tokens)
      bad("memory.num_chapters (" + std::to_string(o.num_chapters) + ") chapters of " +
          std::to_string(o.tokens_per_chapter) + " vectors (memory.tokens_per_chapter) do not fit in " +
          "memory.num_memory_tokens = " + std::to_string(o.bank.num_tokens));
    if (o.top_k > o.num_chapters)
      bad("memory.top_k_chapters = " + std::to_string(o.top_k) + " must be <= memory.num_chapters = " +
          std::to_string(o.num_chapters));
    o.routing_train = c.get_string("memory.routing_strategy_train");
    o.routing_inference = c.get_string("memory.routing_strategy_inference");
    o.routing_window = c.get_int("memory.routing_window_size");
    o.use_load_balance = c.get_bool("memory.use_load_balance_loss");
    o.use_auxiliary = c.get_bool("memory.use_auxiliary_loss");
    o.use_z = c.get_bool("memory.use_z_loss");
    o.load_balance_coefficient = c.get_float("memory.load_balance_coefficient");
    o.auxiliary_coefficient = c.get_float("memory.auxiliary_loss_coefficient");
    o.z_coefficient = c.get_float("memory.z_loss_coefficient");
  }
  return o;
}

ProjectionImpl::ProjectionImpl(int64_t in, int64_t out, int64_t rank) {
  if (rank > 0) {
    down = register_parameter("down", torch::zeros({rank, in}));
    up = register_parameter("up", torch::zeros({out, rank}));
  } else {
    weight = register_parameter("weight", torch::zeros({out, in}));
  }
}

torch::Tensor ProjectionImpl::forward(const torch::Tensor& x) {
  if (weight.defined()) return torch::linear(x, weight);
  return torch::linear(torch::linear(x, down), up);
}

void ProjectionImpl::reset(double std, bool zero) {
  torch::NoGradGuard no_grad;
  if (weight.defined()) {
    if (zero) weight.zero_();
    else weight.normal_(0.0, std);
    return;
  }
  down.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(down.size(0))));
  if (zero) up.zero_();
  else up.normal_(0.0, std);
}

MemoryAttentionImpl::MemoryAttentionImpl(const AttentionSpec& spec) : spec_(spec), opt_(MemoryOptions::from_spec(spec)) {
  const int64_t D = spec.hidden_dim, H = spec.num_heads, G = spec.num_kv_heads, d = spec.head_dim;
  const int64_t W = opt_.bank.width(), rank = opt_.projection_rank;
  q_proj = register_module("q_proj", Projection(D, H * d, rank));
  k_proj = register_module("k_proj", Projection(W, G * d, rank));
  v_proj = register_module("v_proj", Projection(W, G * d, rank));
  o_proj = register_module("o_proj", Projection(H * d, D, rank));
  if (opt_.chapters) {
    router = register_module("router", torch::nn::Linear(torch::nn::LinearOptions(D, opt_.num_chapters).bias(false)));
  }
}

void MemoryAttentionImpl::reset_parameters(double init_std) {
  torch::NoGradGuard no_grad;
  q_proj->reset(init_std, false);
  k_proj->reset(init_std, false);
  v_proj->reset(init_std, false);
  o_proj->reset(init_std, opt_.wo_init_zero);
  if (router) router->weight.normal_(0.0, init_std);
}

std::shared_ptr<MemoryBankImpl> MemoryAttentionImpl::make_bank() const {
  return std::make_shared<MemoryBankModule>(opt_.bank);
}

void MemoryAttentionImpl::bind_bank(std::shared_ptr<MemoryBankImpl> bank) {
  if (bank && (bank->num_tokens() != opt_.bank.num_tokens || bank->width() != opt_.bank.width()))
    throw Error(StatusCode::InvalidArgument,
                "memory layer " + std::to_string(spec_.layer_index) + ": the bank has " +
                    std::to_string(bank->num_tokens()) + " vectors of width " + std::to_string(bank->width()) +
                    ", the layer reads " + std::to_string(opt_.bank.num_tokens) + " of width " +
                    std::to_string(opt_.bank.width()));
  bank_ = std::move(bank);
}

bool MemoryAttentionImpl::has_router_loss() const {
  return opt_.chapters && (opt_.use_load_balance || opt_.use_auxiliary || opt_.use_z);
}

torch::Tensor MemoryAttentionImpl::probabilities(const torch::Tensor& scores) {
  auto p = torch::softmax(scores, -1);
  if (is_training() && spec_.attention_dropout > 0.0) p = torch::dropout(p, spec_.attention_dropout, true);
  return p;
}

torch::Tensor MemoryAttentionImpl::attend_all(const torch::Tensor& q, const torch::Tensor& K, const torch::Tensor& V) {
  const int64_t B = q.size(0), T = q.size(1), G = q.size(2), r = q.size(3), d = q.size(4);
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  auto rows = q.permute({2, 0, 1, 3, 4}).reshape({G, B * T * r, d});  // every query of kv group g
  auto p = probabilities(torch::matmul(rows, K.transpose(1, 2)) * scale);  // [G, BTr, N]
  return torch::matmul(p, V).view({G, B, T, r, d}).permute({1, 2, 0, 3, 4});
}

torch::Tensor MemoryAttentionImpl::attend_chapters(const torch::Tensor& x, const torch::Tensor& q,
                                                   const torch::Tensor& K, const torch::Tensor& V,
                                                   AttentionContext& ctx) {
  const int64_t B = q.size(0), T = q.size(1), G = q.size(2), r = q.size(3), d = q.size(4);
  const int64_t C = opt_.num_chapters, P = opt_.tokens_per_chapter, k = opt_.top_k;
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  const std::string& strategy = is_training() ? opt_.routing_train : opt_.routing_inference;
  Routing routing = route(router->forward(router_inputs(x, strategy, opt_.routing_window, ctx.state)), k,
                          ctx.global_batch);

  losses_ = routing.losses;
  aux_loss_ = torch::Tensor();
  auto add_loss = [&](bool on, double coefficient, const char* name) {
    if (!on) return;
    auto term = losses_.at(name) * coefficient;
    aux_loss_ = aux_loss_.defined() ? aux_loss_ + term : term;
  };
  add_loss(opt_.use_load_balance, opt_.load_balance_coefficient, "load_balance");
  add_loss(opt_.use_auxiliary, opt_.auxiliary_coefficient, "auxiliary");
  add_loss(opt_.use_z, opt_.z_coefficient, "z_loss");

  auto Kc = K.narrow(1, 0, C * P), Vc = V.narrow(1, 0, C * P);  // [G, C P, d]: the chapters' vectors
  if (strategy == "sequence") {
    // One choice per sequence: gather its k chapters, [B, G, k P, d].
    auto idx = routing.indices.reshape({-1});  // [B k]
    auto pick = [&](const torch::Tensor& t) {
      return t.reshape({G, C, P, d}).index_select(1, idx).view({G, B, k, P, d}).permute({1, 0, 2, 3, 4})
          .reshape({B, G, k * P, d});
    };
    auto Ks = pick(Kc), Vs = pick(Vc);
    auto rows = q.permute({0, 2, 1, 3, 4}).reshape({B, G, T * r, d});
    auto p = probabilities((torch::matmul(rows, Ks.transpose(-2, -1)) * scale).view({B, G, T * r, k, P}));
    p = p * routing.gates.to(p.scalar_type()).view({B, 1, 1, k, 1});
    auto o = torch::matmul(p.reshape({B, G, T * r, k * P}), Vs);  // [B, G, Tr, d]
    return o.view({B, G, T, r, d}).permute({0, 2, 1, 3, 4});
  }
  // One choice per token: every chapter scored, the unchosen ones weighted by a gate of 0.
  auto gate_matrix = torch::zeros({B, T, C}, routing.gates.options()).scatter(-1, routing.indices, routing.gates);
  auto rows = q.permute({2, 0, 1, 3, 4}).reshape({G, B * T * r, d});
  auto p = probabilities((torch::matmul(rows, Kc.transpose(1, 2)) * scale).view({G, B * T * r, C, P}));
  auto w = gate_matrix.unsqueeze(2).expand({B, T, r, C}).reshape({1, B * T * r, C, 1}).to(p.scalar_type());
  auto o = torch::matmul((p * w).reshape({G, B * T * r, C * P}), Vc);  // [G, BTr, d]
  return o.view({G, B, T, r, d}).permute({1, 2, 0, 3, 4});
}

torch::Tensor MemoryAttentionImpl::forward(const torch::Tensor& x, AttentionContext& ctx) {
  if (!bank_)
    throw Error(StatusCode::InvalidArgument,
                "memory layer " + std::to_string(spec_.layer_index) +
                    ": no memory bank is bound (the model binds one; a stand-alone layer needs bind_bank(make_bank()))");
  const int64_t B = x.size(0), T = x.size(1);
  const int64_t H = spec_.num_heads, G = spec_.num_kv_heads, d = spec_.head_dim;
  auto M = bank_->read();
  if (M.scalar_type() != x.scalar_type()) M = M.to(x.scalar_type());
  const int64_t N = M.size(0);
  auto K = k_proj->forward(M).view({N, G, d}).transpose(0, 1);  // [G, N, d]
  auto V = v_proj->forward(M).view({N, G, d}).transpose(0, 1);
  auto q = q_proj->forward(x).view({B, T, G, H / G, d});
  auto heads = opt_.chapters ? attend_chapters(x, q, K, V, ctx) : attend_all(q, K, V);
  return o_proj->forward(heads.reshape({B, T, H * d}));
}

}  // namespace memtx::memory
