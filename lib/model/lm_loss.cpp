// model/lm_loss.cpp: packed batches to tensors and the masked next-token cross-entropy (see lm_loss.hpp).
#include "model/lm_loss.hpp"

#include <c10/util/StringUtil.h>

#include "memtx/error.hpp"

namespace memtx {

LmBatch to_lm_batch(const data::Batch& batch, const torch::Device& device) {
  if (batch.empty()) throw Error(StatusCode::InvalidArgument, "to_lm_batch: the batch is empty");
  const int64_t width = batch.length + 1;
  const auto expected = static_cast<size_t>(batch.batch * width);
  if (batch.length < 1 || batch.tokens.size() != expected || batch.mask.size() != expected)
    throw Error(StatusCode::InvalidArgument,
                c10::str("to_lm_batch: a batch of ", batch.batch, " rows of ", width, " tokens needs ", expected,
                         " tokens and mask entries, got ", batch.tokens.size(), " and ", batch.mask.size()));
  auto tokens = torch::from_blob(const_cast<int64_t*>(batch.tokens.data()), {batch.batch, width}, torch::kLong).clone();
  auto mask = torch::from_blob(const_cast<uint8_t*>(batch.mask.data()), {batch.batch, width}, torch::kUInt8)
                  .to(torch::kFloat32);
  LmBatch out;
  out.inputs = tokens.narrow(1, 0, batch.length).contiguous().to(device);
  out.targets = tokens.narrow(1, 1, batch.length).contiguous().to(device);
  auto weights = mask.narrow(1, 1, batch.length).contiguous();
  out.target_count = static_cast<int64_t>(weights.sum().item<double>());
  out.weights = weights.to(device);
  out.rows = batch.batch;
  return out;
}

torch::Tensor masked_lm_loss_sum(const torch::Tensor& logits, const torch::Tensor& targets,
                                 const torch::Tensor& weights) {
  if (logits.dim() != 3 || targets.sizes() != logits.sizes().slice(0, 2) || weights.sizes() != targets.sizes())
    throw Error(StatusCode::InvalidArgument,
                c10::str("masked_lm_loss_sum: logits ", logits.sizes(), ", targets ", targets.sizes(), " and weights ",
                         weights.sizes(), " do not match ([B, L, V], [B, L], [B, L])"));
  const int64_t vocab = logits.size(2);
  auto per_token = torch::nn::functional::cross_entropy(
      logits.reshape({-1, vocab}).to(torch::kFloat32), targets.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  return (per_token * weights.reshape({-1}).to(torch::kFloat32)).sum();
}

}  // namespace memtx
