// train/data_parallel.cpp: joining the run's process group, splitting global batches into rank rows, and the
// reductions of a data-parallel step (see data_parallel.hpp for the arithmetic).
#include "train/data_parallel.hpp"

#include "dist/digest.hpp"
#include "dist/world.hpp"
#include "model/transformer.hpp"

namespace memtx::train {

std::unique_ptr<DataParallel> DataParallel::from_environment(const Config& config, const torch::Device& device) {
  const dist::World world = dist::world_from_env();
  if (!world.distributed()) return nullptr;
  dist::GroupOptions options;
  options.backend = device.is_cuda() ? dist::BackendKind::Nccl : dist::BackendKind::Gloo;
  if (!dist::backend_available(options.backend))
    throw Error(StatusCode::InvalidArgument,
                std::string("distributed training on ") + (device.is_cuda() ? "CUDA" : "the CPU") + " needs the " +
                    dist::backend_name(options.backend) + " backend, which this build of memtx lacks");
  auto dp = std::make_unique<DataParallel>(dist::ProcessGroup(world, options));
  dp->group_.check_config_digest(dist::config_digest(config.to_yaml()));
  return dp;
}

namespace {

// value: the sum over the ranks; gradient: W times this rank's t (t - t.detach() is exactly 0 in value).
class RankSum : public GlobalBatch {
 public:
  explicit RankSum(dist::ProcessGroup& group) : group_(group) {}
  torch::Tensor sum(const torch::Tensor& t) const override {
    torch::Tensor total = t.detach().clone();
    group_.all_reduce_sum({total});
    return total + (t - t.detach()) * static_cast<double>(group_.size());
  }

 private:
  dist::ProcessGroup& group_;
};

}  // namespace

DataParallel::DataParallel(dist::ProcessGroup group)
    : group_(std::move(group)), global_batch_(std::make_unique<RankSum>(group_)) {}

data::Batch DataParallel::local_rows(const data::Batch& global, int64_t per_rank) const {
  data::Batch out;
  out.length = global.length;
  out.epoch = global.epoch;
  const int64_t first = std::min<int64_t>(global.batch, per_rank * rank());
  const int64_t rows = std::min<int64_t>(global.batch - first, per_rank);
  if (rows <= 0) return out;
  const auto width = static_cast<size_t>(global.length + 1);
  const auto begin = static_cast<size_t>(first) * width, end = begin + static_cast<size_t>(rows) * width;
  out.tokens.assign(global.tokens.begin() + begin, global.tokens.begin() + end);
  out.mask.assign(global.mask.begin() + begin, global.mask.begin() + end);
  out.batch = rows;
  return out;
}

std::vector<int64_t> DataParallel::sum(const std::vector<int64_t>& values) {
  torch::Tensor t = torch::tensor(values, torch::kLong);
  group_.all_reduce_sum({t});
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}

double DataParallel::sum(double value) {
  torch::Tensor t = torch::tensor({value}, torch::kFloat64);
  group_.all_reduce_sum({t});
  return t.item<double>();
}

std::optional<std::string> DataParallel::first_of_ranks(const std::optional<std::string>& value) {
  // One byte says whether the rank has a value, so an empty value still counts.
  for (const std::string& bytes : group_.all_gather_bytes(value ? "1" + *value : std::string()))
    if (!bytes.empty()) return bytes.substr(1);
  return std::nullopt;
}

bool DataParallel::any(bool flag) { return sum(std::vector<int64_t>{flag ? 1 : 0}).front() > 0; }

void DataParallel::sum_gradients(const std::vector<std::pair<std::string, torch::Tensor>>& params) {
  std::vector<torch::Tensor> grads;
  grads.reserve(params.size());
  for (const auto& [name, p] : params) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  group_.all_reduce_sum(grads);
}

void DataParallel::broadcast_model(TransformerImpl& model) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors;
  for (const auto& p : model.parameters()) tensors.push_back(p);
  for (const auto& b : model.buffers()) tensors.push_back(b);
  group_.broadcast(tensors, 0);
}

void DataParallel::barrier() { group_.barrier(); }

}  // namespace memtx::train
