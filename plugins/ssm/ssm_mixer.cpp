// ssm/ssm_mixer.cpp: options, construction and forward pass of the Mamba mixer (equations in ssm_mixer.hpp). The
// scan gets float32 inputs, except the CUDA kernel, which gets bfloat16 ones as they are (autocast).
#include "ssm_mixer.hpp"

#include <memtx/error.hpp>

namespace memtx::ssm {

SsmOptions SsmOptions::from_spec(const AttentionSpec& spec) {
  const Config& c = *spec.config;
  SsmOptions o;
  o.d_inner = c.get_int("attention.ssm_mamba_expand") * spec.hidden_dim;
  o.d_state = c.get_int("attention.ssm_d_state");
  o.dt_rank = c.get_int("attention.ssm_dt_rank");
  o.conv_kernel = c.get_int("attention.ssm_conv_kernel_size");
  o.io_bias = c.get_bool("attention.ssm_io_bias");
  o.scan = parse_scan_kind(c.get_string("attention.ssm_scan"));
  if (spec.hidden_dim < 1) throw Error(StatusCode::Config, "ssm: model.hidden_dim must be >= 1");
  for (const auto& [key, value] : {std::pair<const char*, int64_t>{"attention.ssm_mamba_expand", o.d_inner},
                                   {"attention.ssm_d_state", o.d_state},
                                   {"attention.ssm_dt_rank", o.dt_rank},
                                   {"attention.ssm_conv_kernel_size", o.conv_kernel}}) {
    if (value < 1) throw Error(StatusCode::Config, std::string("ssm: ") + key + " must be >= 1, got " + std::to_string(value));
  }
  return o;
}

SsmMixerImpl::SsmMixerImpl(const AttentionSpec& spec) : hidden_dim_(spec.hidden_dim), opt_(SsmOptions::from_spec(spec)) {
  const int64_t D_model = spec.hidden_dim, Di = opt_.d_inner, N = opt_.d_state;
  auto linear = [](int64_t in, int64_t out, bool bias) {
    return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
  };
  in_proj = register_module("in_proj", linear(D_model, 2 * Di, opt_.io_bias));
  conv1d = register_module("conv1d", torch::nn::Conv1d(torch::nn::Conv1dOptions(Di, Di, opt_.conv_kernel).groups(Di).bias(true)));
  x_proj = register_module("x_proj", linear(Di, opt_.dt_rank + 2 * N, false));
  dt_proj = register_module("dt_proj", linear(opt_.dt_rank, Di, true));
  A_log = register_parameter("A_log", torch::zeros({Di, N}));
  D = register_parameter("D", torch::ones({Di}));
  out_proj = register_module("out_proj", linear(Di, D_model, opt_.io_bias));
}

std::vector<std::string> SsmMixerImpl::projection_names() const { return {"in_proj", "x_proj", "dt_proj", "out_proj"}; }

LayerState SsmMixerImpl::initial_state(int64_t batch, const torch::TensorOptions& options) {
  return {{"conv", torch::zeros({batch, opt_.d_inner, opt_.conv_kernel - 1}, options)},
          {"h", torch::zeros({batch, opt_.d_inner, opt_.d_state}, options.dtype(torch::kFloat))}};
}

torch::Tensor SsmMixerImpl::state_or_zeros(const LayerState* state, const std::string& key, std::vector<int64_t> shape,
                                           const torch::TensorOptions& options) const {
  if (!state || !state->count(key)) return torch::zeros(shape, options);
  const auto& t = state->at(key);
  if (!t.defined() || t.sizes() != c10::IntArrayRef(shape)) {
    throw Error(StatusCode::InvalidArgument, "ssm: state '" + key + "' has shape " +
                                                 (t.defined() ? c10::str(t.sizes()) : std::string("undefined")) +
                                                 ", expected " + c10::str(c10::IntArrayRef(shape)) +
                                                 " (batch, d_inner, " + (key == "h" ? "d_state)" : "conv kernel - 1)"));
  }
  return t.to(options.device(), options.dtype().toScalarType());
}

torch::Tensor SsmMixerImpl::forward(const torch::Tensor& x, AttentionContext& ctx) {
  if (x.dim() != 3 || x.size(2) != hidden_dim_) {
    throw Error(StatusCode::InvalidArgument, "ssm: input must be [batch, time, " + std::to_string(hidden_dim_) +
                                                 "], got " + c10::str(x.sizes()));
  }
  const int64_t batch = x.size(0), T = x.size(1), Di = opt_.d_inner, N = opt_.d_state, R = opt_.dt_rank;
  const int64_t tail = opt_.conv_kernel - 1;
  auto conv_tail = state_or_zeros(ctx.state, "conv", {batch, Di, tail}, x.options());
  auto h0 = state_or_zeros(ctx.state, "h", {batch, Di, N}, x.options().dtype(torch::kFloat));

  auto uz = in_proj->forward(x);
  auto z = uz.narrow(-1, Di, Di);
  auto conv_in = torch::cat({conv_tail, uz.narrow(-1, 0, Di).transpose(1, 2)}, 2);  // [B, Di, tail + T]
  auto u = torch::silu(conv1d->forward(conv_in)).transpose(1, 2);                    // [B, T, Di]
  auto ssm_params = x_proj->forward(u);
  auto dt = torch::softplus(dt_proj->forward(ssm_params.narrow(-1, 0, R)), /*beta=*/1, /*threshold=*/20);
  auto Bm = ssm_params.narrow(-1, R, N), Cm = ssm_params.narrow(-1, R + N, N);

  auto u32 = u.to(torch::kFloat);
  auto A = -torch::exp(A_log.to(torch::kFloat));
  ScanResult scan;
  if (scan_runs_cuda_kernel(opt_.scan, u.device(), N)) {
    // The CUDA kernel takes u, dt, B, C in one dtype, float32 or bfloat16 (its state, A and h0 are float32): under
    // bf16 autocast the activations go in as bf16 (dt, which softplus returns in float32, rounded to bf16).
    const auto dtype = u.scalar_type() == torch::kBFloat16 ? torch::kBFloat16 : torch::kFloat;
    scan = selective_scan(opt_.scan, u.to(dtype), dt.to(dtype), A, Bm.to(dtype), Cm.to(dtype), h0);
  } else {
    scan = selective_scan(opt_.scan, u32, dt.to(torch::kFloat), A, Bm.to(torch::kFloat), Cm.to(torch::kFloat), h0);
  }
  auto y = scan.y.to(torch::kFloat) + u32 * D.to(torch::kFloat);
  if (ctx.state) {
    (*ctx.state)["conv"] = conv_in.narrow(2, T, tail).clone();
    (*ctx.state)["h"] = scan.last_state;
  }
  return out_proj->forward(y.to(x.scalar_type()) * torch::silu(z));
}

}  // namespace memtx::ssm
