// infini/infini_attention.cpp: options, construction and the segment-wise forward pass of Infini-attention
// (equations in infini_attention.hpp and infini_memory.hpp).
#include "infini_attention.hpp"

#include <memtx/error.hpp>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "common/qkvo_projections.hpp"
#include "common/softmax_attention.hpp"

namespace memtx::infini {
namespace {

// log_segment_acts keeps every segment of a sequence (the model may feed it one segment per call); the bound
// only guards memory on absurdly long streams (4096 segments of 2048 tokens are 8M tokens).
constexpr size_t kMaxLoggedSegments = 4096;

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + (shape[i] < 0 ? std::string("*") : std::to_string(shape[i]));
  return s + "]";
}

torch::Tensor rms(const torch::Tensor& t) { return t.detach().to(torch::kFloat64).pow(2).mean().sqrt(); }

}  // namespace

InfiniOptions InfiniOptions::from_spec(const AttentionSpec& spec) {
  if (!spec.config) throw Error(StatusCode::InvalidArgument, "infini: the attention spec carries no config");
  const Config& c = *spec.config;
  InfiniOptions o;
  o.segment_length = c.get_int("infini_attention.segment_length");
  o.local_segments = c.get_int("infini_attention.local_segments");
  o.memory_on = c.get_bool("infini_attention.turn_on_memory");
  o.write_gate = o.memory_on && c.get_bool("infini_attention.write_gate");
  o.delta = c.get_string("infini_attention.memory_update") == "delta";
  o.init_type = c.get_string("infini_attention.balance_init_type");
  // Over a pretrained base the gate starts shut unless asked otherwise, so the layer begins as the base's
  // attention within a segment (its q/k/v/o are the base's) and learns to open towards the memory.
  if (!c.is_set("infini_attention.balance_init_type") && c.get_opt_string("model.base_model_name"))
    o.init_type = "closed";
  o.gate = parse_gate_kind(c.get_string("infini_attention.balance_act_type"));
  o.qk_norm = c.get_bool("attention.use_qk_norm");
  o.qk_norm_scale = c.get_bool("attention.use_qk_norm_scale");
  o.fused = spec.use_flash_attention;
  o.logging = c.get_bool("infini_attention.logging");
  o.logging_interval = c.get_int("infini_attention.logging_interval");
  o.detach_every = c.get_int("infini_attention.detach_every");
  o.balance_lr = c.get_float("infini_attention.balance_factor_lr");
  o.write_sparsity = c.get_float("infini_attention.write_sparsity");
  o.log_grad = o.logging && c.get_bool("infini_attention.log_grad");
  o.log_segment_acts = o.logging && c.get_bool("infini_attention.log_segment_acts");
  if (o.segment_length < 1) {
    throw Error(StatusCode::Config, "infini: infini_attention.segment_length must be >= 1, got " +
                                        std::to_string(o.segment_length));
  }
  if (o.local_segments < 1) {
    throw Error(StatusCode::Config, "infini: infini_attention.local_segments must be >= 1, got " +
                                        std::to_string(o.local_segments));
  }
  if (o.init_type != "zeros" && o.init_type != "ones" && o.init_type != "normal" && o.init_type != "closed") {
    throw Error(StatusCode::Config, "infini: infini_attention.balance_init_type '" + o.init_type +
                                        "' is not one of zeros, ones, normal, closed");
  }
  if (spec.num_heads < 1 || spec.num_kv_heads < 1 || spec.num_heads % spec.num_kv_heads != 0) {
    throw Error(StatusCode::Config, "infini: model.num_heads " + std::to_string(spec.num_heads) +
                                        " is not divisible by the kv heads (attention.n_kv_group) " +
                                        std::to_string(spec.num_kv_heads));
  }
  if (spec.head_dim < 1) throw Error(StatusCode::Config, "infini: the head dim must be >= 1");
  if (spec.use_rope && (spec.rope_dim > spec.head_dim || (spec.rope_dim ? spec.rope_dim : spec.head_dim) % 2)) {
    throw Error(StatusCode::Config, "infini: model.rope_dim must be even and <= the head dim " +
                                        std::to_string(spec.head_dim));
  }
  return o;
}

InfiniAttentionImpl::InfiniAttentionImpl(const AttentionSpec& spec) : spec_(spec), opt_(InfiniOptions::from_spec(spec)) {
  const int64_t H = spec.num_heads, d = spec.head_dim;
  auto proj = common::register_qkvo_projections(*this, spec);
  q_proj = proj.q;
  k_proj = proj.k;
  v_proj = proj.v;
  o_proj = proj.o;
  if (opt_.qk_norm) {
    q_norm = register_module("q_norm", RMSNorm(d, spec.norm_eps));
    k_norm = register_module("k_norm", RMSNorm(d, spec.norm_eps));
  }
  if (opt_.write_gate) {
    write_gate = register_module("write_gate", torch::nn::Linear(torch::nn::LinearOptions(spec.hidden_dim,
                                                                                          spec.num_kv_heads)));
  }
  if (opt_.qk_norm_scale) qk_scale = register_parameter("qk_scale", torch::full({1}, 1.0 / std::sqrt(double(d))));
  balance = register_parameter("balance", torch::zeros({H}));
  init_balance();
}

void InfiniAttentionImpl::init_balance() {
  torch::NoGradGuard no_grad;
  if (opt_.init_type == "closed") balance.fill_(closed_gate_value(opt_.gate));
  else if (opt_.init_type == "zeros") balance.zero_();
  else if (opt_.init_type == "ones") balance.fill_(1.0);
  else balance.normal_(0.0, 1.0);
}

void InfiniAttentionImpl::reset_parameters(double init_std) {
  AttentionModuleImpl::reset_parameters(init_std);
  init_balance();
}

LayerState InfiniAttentionImpl::initial_state(int64_t batch, const torch::TensorOptions& options) {
  const int64_t G = spec_.num_kv_heads, d = spec_.head_dim;
  auto mem_opts = options.dtype(options.dtype() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32);
  LayerState state{{"M", torch::zeros({batch, G, d, d}, mem_opts)},
                   {"z", torch::zeros({batch, G, d}, mem_opts)},
                   {"k", torch::zeros({batch, G, 0, d}, options)},
                   {"v", torch::zeros({batch, G, 0, d}, options)}};
  if (opt_.write_gate) state["w"] = torch::zeros({batch, G, 0}, mem_opts);
  if (opt_.local_segments > 1) {
    state["pk"] = torch::zeros({batch, G, 0, d}, options);
    state["pv"] = torch::zeros({batch, G, 0, d}, options);
  }
  return state;
}

torch::Tensor InfiniAttentionImpl::stored(const LayerState* state, const std::string& key,
                                          const std::vector<int64_t>& shape) const {
  if (!state || !state->count(key)) return {};
  const auto& t = state->at(key);
  bool ok = t.defined() && t.dim() == static_cast<int64_t>(shape.size());
  for (size_t i = 0; ok && i < shape.size(); ++i) ok = shape[i] < 0 || t.size(i) == shape[i];
  if (!ok) {
    throw Error(StatusCode::InvalidArgument, "infini: state '" + key + "' has shape " +
                                                 (t.defined() ? c10::str(t.sizes()) : std::string("undefined")) +
                                                 ", expected " + shape_text(shape) +
                                                 " (batch, kv heads, " +
                                                 (key == "z" ? "d_k)" : key == "M" ? "d_k, d_v)" : "cached tokens, head dim)"));
  }
  return t;
}

std::pair<torch::Tensor, torch::Tensor> InfiniAttentionImpl::stored_tokens(
    const LayerState* state, const std::string& keys, const std::string& values, const std::vector<int64_t>& bgd,
    int64_t max_tokens, const std::string& bound, const std::string& what, const torch::TensorOptions& options) const {
  const std::vector<int64_t> shape{bgd[0], bgd[1], -1, bgd[2]};
  auto k = stored(state, keys, shape), v = stored(state, values, shape);
  if (k.defined() != v.defined() || (k.defined() && k.size(2) != v.size(2)) ||
      (k.defined() && k.size(2) > max_tokens)) {
    throw Error(StatusCode::InvalidArgument,
                "infini: state '" + keys + "' and '" + values + "' must both hold the same number (" + bound +
                    ") of " + what + ", got " + (k.defined() ? c10::str(k.sizes()) : "none") + " and " +
                    (v.defined() ? c10::str(v.sizes()) : "none"));
  }
  if (!k.defined()) return {};
  return {k.to(options), v.to(options)};
}

torch::Tensor InfiniAttentionImpl::local_attention(const torch::Tensor& q_in, const torch::Tensor& k_in,
                                                   const torch::Tensor& v, int64_t offset) {
  torch::Tensor q = q_in, k = k_in;
  if (spec_.use_rope) {
    q = ops::apply_rope(q, offset, spec_.rope_theta, spec_.rope_layout, spec_.rope_dim, spec_.rope_scaling);
    k = ops::apply_rope(k, 0, spec_.rope_theta, spec_.rope_layout, spec_.rope_dim, spec_.rope_scaling);
  }
  common::SoftmaxAttentionOptions o;  // nominal scale: 1/sqrt(d_k), d_k being q's last dim
  if (opt_.qk_norm_scale) o.learned_scale = qk_scale;
  o.dropout = is_training() ? spec_.attention_dropout : 0.0;
  o.allow_fused = opt_.fused;
  return common::softmax_attention(q, k, v, o);
}

torch::Tensor InfiniAttentionImpl::forward(const torch::Tensor& x, AttentionContext& ctx) {
  if (x.dim() != 3 || x.size(2) != spec_.hidden_dim) {
    throw Error(StatusCode::InvalidArgument, "infini: input must be [batch, time, " +
                                                 std::to_string(spec_.hidden_dim) + "], got " + c10::str(x.sizes()));
  }
  const int64_t B = x.size(0), T = x.size(1), H = spec_.num_heads, G = spec_.num_kv_heads, d = spec_.head_dim;
  const int64_t L = opt_.segment_length;
  const auto mem_type = x.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  auto mem_opts = x.options().dtype(mem_type);

  // q, k as the memory sees them (before RoPE); RoPE is applied inside local_attention.
  auto q = q_proj->forward(x).view({B, T, H, d}).transpose(1, 2);
  auto k = k_proj->forward(x).view({B, T, G, d}).transpose(1, 2);
  auto v = v_proj->forward(x).view({B, T, G, d}).transpose(1, 2);
  if (opt_.qk_norm) {
    q = q_norm->forward(q);
    k = k_norm->forward(k);
  }
  torch::Tensor w;  // [B, G, T] write weights
  write_penalty_ = torch::Tensor();
  if (opt_.write_gate) {
    auto u = write_gate->forward(x);  // [B, T, G]
    w = gate(u, GateKind::HardSigmoid).transpose(1, 2).to(mem_type);
    // The ramp without its upper clamp: tokens saturated at w = 1 still feel the penalty.
    if (opt_.write_sparsity > 0 && is_training()) write_penalty_ = opt_.write_sparsity * torch::relu(hard_sigmoid_ramp(u)).mean();
  }

  LayerState* state = ctx.state;
  Memory mem;
  mem.M = stored(state, "M", {B, G, d, d});
  mem.z = stored(state, "z", {B, G, d});
  mem.M = mem.M.defined() ? mem.M.to(mem_opts) : torch::zeros({B, G, d, d}, mem_opts);
  mem.z = mem.z.defined() ? mem.z.to(mem_opts) : torch::zeros({B, G, d}, mem_opts);
  auto [k_cache, v_cache] = stored_tokens(state, "k", "v", {B, G, d}, L - 1,
                                          "< segment_length " + std::to_string(L), "cached tokens", k.options());
  torch::Tensor w_cache;
  if (opt_.write_gate) {
    const int64_t cached = k_cache.defined() ? k_cache.size(2) : 0;
    w_cache = stored(state, "w", {B, G, cached});
    if (cached > 0 && !w_cache.defined()) {
      throw Error(StatusCode::InvalidArgument, "infini: state 'w' (the write weights of the " +
                                                   std::to_string(cached) + " cached tokens) is missing");
    }
    if (w_cache.defined()) w_cache = w_cache.to(mem_opts);
    if (w_cache.defined() && cached == 0) w_cache = torch::Tensor();
  }

  // The last tokens of completed segments that the local attention also sees (local_segments > 1).
  const int64_t window = (opt_.local_segments - 1) * L;
  torch::Tensor k_prev, v_prev;
  if (window > 0) {
    std::tie(k_prev, v_prev) =
        stored_tokens(state, "pk", "pv", {B, G, d}, window,
                      "<= (local_segments - 1) * segment_length = " + std::to_string(window),
                      "completed segments' tokens", k.options());
  }

  torch::Tensor g;  // [1, H, 1, 1]
  if (opt_.memory_on) g = gate(balance, opt_.gate).to(x.scalar_type()).view({1, H, 1, 1});
  if (opt_.logging && ctx.start_position == 0) {  // a new sequence starts
    segment_acts_.clear();
    write_stats_ = {};
  }
  if (opt_.logging && w.defined()) {
    auto wd = w.detach().to(torch::kFloat64);
    const auto tokens = static_cast<double>(wd.size(0) * wd.size(2));
    const std::vector<int64_t> rows_and_tokens{0, 2};
    auto sum = wd.sum(rows_and_tokens), open = (wd > 0).to(torch::kFloat64).sum(rows_and_tokens);
    write_stats_.sum = write_stats_.sum.defined() ? write_stats_.sum + sum : sum;
    write_stats_.open = write_stats_.open.defined() ? write_stats_.open + open : open;
    write_stats_.tokens += tokens;
  }

  std::vector<torch::Tensor> outs;
  for (int64_t pos = 0; pos < T;) {
    const int64_t n = k_cache.defined() ? k_cache.size(2) : 0;
    const int64_t m = std::min(L - n, T - pos);
    auto qp = q.narrow(2, pos, m);
    auto k_seg = n > 0 ? torch::cat({k_cache, k.narrow(2, pos, m)}, 2) : k.narrow(2, pos, m);
    auto v_seg = n > 0 ? torch::cat({v_cache, v.narrow(2, pos, m)}, 2) : v.narrow(2, pos, m);
    torch::Tensor w_seg;
    if (opt_.write_gate) w_seg = n > 0 ? torch::cat({w_cache, w.narrow(2, pos, m)}, 2) : w.narrow(2, pos, m);
    const int64_t p = k_prev.defined() ? k_prev.size(2) : 0;
    auto k_window = p > 0 ? torch::cat({k_prev, k_seg}, 2) : k_seg;
    auto v_window = p > 0 ? torch::cat({v_prev, v_seg}, 2) : v_seg;
    auto local = local_attention(qp, k_window, v_window, p + n);
    torch::Tensor out = local, a_mem;
    if (opt_.memory_on) {
      a_mem = memory_read(sigma(qp.to(mem_type)), mem).to(x.scalar_type());
      out = g * a_mem + (1.0 - g) * local;
    }
    if (opt_.log_segment_acts && segment_acts_.size() < kMaxLoggedSegments) {
      std::map<std::string, torch::Tensor> acts{{"local_rms", rms(local)}, {"out_rms", rms(out)}};
      if (a_mem.defined()) acts["mem_rms"] = rms(a_mem);
      segment_acts_.push_back(std::move(acts));
    }
    outs.push_back(out);
    pos += m;
    if (n + m == L) {
      // The segment is complete: its keys leave the local cache and enter the memory (skipped when nothing
      // could read it: a stateless call's last segment).
      if (opt_.memory_on && (state || pos < T)) {
        mem = memory_write(mem, sigma(k_seg.to(mem_type)), v_seg.to(mem_type), opt_.delta, w_seg);
      }
      if (window > 0) {  // own copies of the window's last tokens, as for the cache below
        const int64_t keep = std::min(window, p + L);
        k_prev = k_window.narrow(2, p + L - keep, keep).clone(torch::MemoryFormat::Contiguous);
        v_prev = v_window.narrow(2, p + L - keep, keep).clone(torch::MemoryFormat::Contiguous);
      }
      k_cache = torch::Tensor();
      v_cache = torch::Tensor();
      w_cache = torch::Tensor();
    } else {
      // Own copies (a narrow of this call's k would keep the whole call's buffer alive in the state).
      k_cache = n > 0 ? k_seg : k_seg.clone(torch::MemoryFormat::Contiguous);
      v_cache = n > 0 ? v_seg : v_seg.clone(torch::MemoryFormat::Contiguous);
      if (opt_.write_gate) w_cache = n > 0 ? w_seg : w_seg.clone(torch::MemoryFormat::Contiguous);
    }
  }

  if (state) {
    auto& st = *state;
    st["M"] = mem.M;
    st["z"] = mem.z;
    st["k"] = k_cache.defined() ? k_cache : torch::zeros({B, G, 0, d}, k.options());
    st["v"] = v_cache.defined() ? v_cache : torch::zeros({B, G, 0, d}, v.options());
    if (opt_.write_gate) st["w"] = w_cache.defined() ? w_cache : torch::zeros({B, G, 0}, mem_opts);
    if (window > 0) {
      st["pk"] = k_prev.defined() ? k_prev : torch::zeros({B, G, 0, d}, k.options());
      st["pv"] = v_prev.defined() ? v_prev : torch::zeros({B, G, 0, d}, v.options());
    }
  }
  if (opt_.logging) last_memory_ = {mem.M.detach(), mem.z.detach()};

  auto heads = outs.size() == 1 ? outs[0] : torch::cat(outs, 2);  // [B, H, T, d]
  return o_proj->forward(heads.transpose(1, 2).reshape({B, T, H * d}));
}

}  // namespace memtx::infini
