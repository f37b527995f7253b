// common/softmax_attention.cpp: the fused and explicit paths of the shared softmax attention core (equations in
// softmax_attention.hpp).
#include "softmax_attention.hpp"

#include <memtx/error.hpp>
#include <memtx/ops.hpp>
#include <memtx/torch_compat.hpp>

#include <cmath>
#include <limits>
#include <optional>

namespace memtx::common {
namespace {

// The extra softmax column of the sink, [B, rows' heads, rows, 1] like scores' leading dims: log_c of the
// query's head (per head) or the shared one. Folded rows h * tq + i belong to head h.
torch::Tensor sink_column(const torch::Tensor& log_c, const torch::Tensor& scores, bool folded, int64_t heads,
                          int64_t tq) {
  auto c = log_c.to(scores.scalar_type());
  if (folded && c.numel() > 1) {
    return c.view({1, 1, heads, 1}).expand({scores.size(0), 1, heads, tq}).reshape({scores.size(0), 1, heads * tq, 1});
  }
  return c.view({1, -1, 1, 1}).expand({scores.size(0), scores.size(1), scores.size(2), 1});
}

// [tq, tk] true where query i may read key j: j <= i + tk - tq, and within the window when there is one.
torch::Tensor visible_keys(int64_t tq, int64_t tk, int64_t window, const torch::TensorOptions& options) {
  auto ones = torch::ones({tq, tk}, options.dtype(torch::kBool));
  auto keep = ones.tril(tk - tq);
  if (window > 0) keep = keep.logical_and(ones.triu(tk - tq - window + 1));
  return keep;
}

}  // namespace

bool fused_allowed(const SoftmaxAttentionOptions& options) {
  return options.allow_fused && compat::has_fused_sdpa() && options.softcap == 0.0 && !options.sink_log_c.defined();
}

torch::Tensor softmax_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                const SoftmaxAttentionOptions& options, bool fused) {
  const int64_t B = q.size(0), H = q.size(1), tq = q.size(2), d = q.size(3);
  const int64_t G = k.size(1), tk = k.size(2);
  if (G < 1 || H % G != 0 || v.size(1) != G || v.size(2) != tk) {
    throw Error(StatusCode::InvalidArgument, "softmax attention: q " + c10::str(q.sizes()) + ", k " +
                                                 c10::str(k.sizes()) + " and v " + c10::str(v.sizes()) +
                                                 " do not match (the kv heads must divide the query heads)");
  }
  const double nominal = options.scale > 0.0 ? options.scale : 1.0 / std::sqrt(double(d));
  const torch::Tensor& learned = options.learned_scale;
  const bool fold = options.fold_shared_kv && G == 1 && H > 1;
  auto unfold = [&](const torch::Tensor& out) { return fold ? out.view({B, H, tq, out.size(-1)}) : out; };

  if (fused) {
    // The kernel scales by the nominal scale: a learned scale enters as a factor on q, so both paths compute
    // the same s. Grouped k/v go in as they are (SDPA's GQA mode).
    auto qs = learned.defined() ? q * (learned / nominal) : q;
    if (fold) qs = qs.reshape({B, 1, H * tq, d});
    const std::optional<double> scale = options.scale > 0.0 ? std::optional<double>(options.scale) : std::nullopt;
    if (tq == tk && !fold && options.window <= 0)
      return compat::sdpa(qs, k, v, std::nullopt, /*is_causal=*/true, options.dropout, scale);
    auto keep = visible_keys(tq, tk, options.window, q.options());
    if (fold) keep = keep.repeat({H, 1});
    return unfold(compat::sdpa(qs, k, v, keep, /*is_causal=*/false, options.dropout, scale));
  }

  const auto qr = fold ? q.reshape({B, 1, H * tq, d}) : q;
  const int64_t groups = qr.size(1) / G;
  auto ke = ops::repeat_kv(k, groups);
  auto ve = ops::repeat_kv(v, groups);
  auto scores = torch::matmul(qr, ke.transpose(-2, -1));
  scores = learned.defined() ? scores * learned : scores * nominal;
  if (options.softcap > 0.0) scores = options.softcap * torch::tanh(scores / options.softcap);
  auto hidden = visible_keys(tq, tk, options.window, scores.options()).logical_not();
  scores = scores.masked_fill(fold ? hidden.repeat({H, 1}) : hidden, -std::numeric_limits<double>::infinity());
  torch::Tensor probs;
  if (options.sink_log_c.defined()) {
    auto sink = sink_column(options.sink_log_c, scores, fold, H, tq);
    probs = torch::softmax(torch::cat({sink, scores}, -1), -1).narrow(-1, 1, tk);
  } else {
    probs = torch::softmax(scores, -1);
  }
  if (options.dropout > 0.0) probs = torch::dropout(probs, options.dropout, true);
  return unfold(torch::matmul(probs, ve));
}

}  // namespace memtx::common
