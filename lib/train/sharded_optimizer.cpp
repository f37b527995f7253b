// train/sharded_optimizer.cpp: ZeRO-2 over a data-parallel group (see sharded_optimizer.hpp for the layout
// and the step).
#include "train/sharded_optimizer.hpp"

#include <algorithm>
#include <map>

#include "train/optimizer_state.hpp"

namespace memtx::train {

ShardedOptimizer::ShardedOptimizer(const std::vector<ParamGroup>& groups, const OptimizerSettings& settings,
                                   DataParallel& dp)
    : dp_(dp), groups_(groups), settings_(settings) {
  const auto params = grouped_parameters(groups_);
  if (params.empty()) throw Error(StatusCode::InvalidArgument, "sharded optimizer: no trainable parameter");
  const torch::Tensor& first = params.front().second;
  options_ = first.options().requires_grad(false);
  for (const auto& [name, p] : params) {
    if (p.scalar_type() != first.scalar_type() || p.device() != first.device())
      throw Error(StatusCode::Config,
                  "training.fsdp_sharding_strategy: SHARD_GRAD_OP lays the trainable parameters end to end, so they "
                  "must share one dtype and device; '" + params.front().first + "' is " +
                      std::string(c10::toString(first.scalar_type())) + " on " + first.device().str() + ", '" + name +
                      "' " + std::string(c10::toString(p.scalar_type())) + " on " + p.device().str());
    if (!p.is_contiguous())
      throw Error(StatusCode::Config, "training.fsdp_sharding_strategy: SHARD_GRAD_OP needs contiguous parameters; '" +
                                          name + "' is not");
    slots_.push_back({name, p, total_});
    total_ += p.numel();
  }
  const int64_t world = dp_.size();
  shard_ = (total_ + world - 1) / world;
  first_ = shard_ * dp_.rank();
  const int64_t last = std::min(total_, first_ + shard_);

  std::map<std::string, size_t> group_of;
  for (size_t g = 0; g < groups_.size(); ++g)
    for (const auto& name : groups_[g].names) group_of.emplace(name, g);
  for (const ParamGroup& g : groups_) piece_groups_.push_back({g.name, g.lr, g.weight_decay, {}, {}});
  for (Slot& s : slots_) {
    const int64_t begin = std::max(first_, s.offset), end = std::min(last, s.offset + s.param.numel());
    if (begin >= end) continue;
    s.piece = static_cast<int64_t>(pieces_.size());
    s.piece_begin = begin - s.offset;
    s.piece_length = end - begin;
    torch::Tensor piece = s.param.detach().view({-1}).narrow(0, s.piece_begin, s.piece_length);
    pieces_.emplace_back(s.name, piece);
    ParamGroup& g = piece_groups_[group_of.at(s.name)];
    g.names.push_back(s.name);
    g.params.push_back(piece);
  }
  inner_ = make_optimizer(piece_groups_, settings_, EmptyGroups::Allowed);
}

torch::Tensor ShardedOptimizer::flat_pieces(const std::vector<torch::Tensor>& per_piece) const {
  torch::Tensor flat = torch::zeros({shard_}, options_);
  for (const Slot& s : slots_)
    if (s.piece >= 0 && per_piece[static_cast<size_t>(s.piece)].defined())
      flat.narrow(0, s.offset + s.piece_begin - first_, s.piece_length)
          .copy_(per_piece[static_cast<size_t>(s.piece)].reshape({-1}));
  return flat;
}

void ShardedOptimizer::zero_grad() {
  for (Slot& s : slots_) s.param.mutable_grad().reset();
  for (auto& [name, piece] : pieces_) piece.mutable_grad().reset();
}

void ShardedOptimizer::reduce_scatter_gradients() {
  torch::NoGradGuard no_grad;
  torch::Tensor flat = torch::zeros({shard_ * dp_.size()}, options_);  // an unused parameter counts as zeros
  for (Slot& s : slots_) {
    const torch::Tensor& g = s.param.grad();
    if (g.defined()) flat.narrow(0, s.offset, s.param.numel()).copy_(g.reshape({-1}));
    s.param.mutable_grad().reset();
  }
  torch::Tensor mine = torch::empty({shard_}, options_);
  dp_.reduce_scatter_sum(flat, mine);
  flat = torch::Tensor();
  for (const Slot& s : slots_)
    if (s.piece >= 0)
      pieces_[static_cast<size_t>(s.piece)].second.mutable_grad() =
          mine.narrow(0, s.offset + s.piece_begin - first_, s.piece_length);
}

void ShardedOptimizer::step() {
  inner_->step();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> values;
  for (const auto& [name, piece] : pieces_) values.push_back(piece);
  torch::Tensor everything = torch::empty({shard_ * dp_.size()}, options_);
  dp_.all_gather(flat_pieces(values), everything);
  for (Slot& s : slots_) s.param.detach().view({-1}).copy_(everything.narrow(0, s.offset, s.param.numel()));
}

int64_t ShardedOptimizer::state_bytes() const { return optimizer_state_bytes(*inner_, piece_groups_); }

std::unique_ptr<torch::optim::Optimizer> ShardedOptimizer::empty_full_optimizer() const {
  return make_optimizer(groups_, settings_);
}

// The floating-point state tensors of each parameter, by field (the step count travels apart).
std::vector<std::string> ShardedOptimizer::state_fields() const {
  if (settings_.kind == OptimizerKind::Sgd) return settings_.momentum > 0 ? std::vector<std::string>{"momentum_buffer"}
                                                                            : std::vector<std::string>{};
  return {"exp_avg", "exp_avg_sq"};
}

std::unique_ptr<torch::optim::Optimizer> ShardedOptimizer::gather_full_optimizer() {
  std::map<std::string, torch::Tensor> mine;  // "<name>.<field>" of this rank's pieces
  for (auto& [name, t] : optimizer_state_tensors(*inner_, piece_groups_)) mine.emplace(name, t);
  // Step counts: a parameter split between ranks has the same count on each; a rank without its piece says 0.
  std::vector<int64_t> steps(slots_.size(), 0);
  for (size_t i = 0; i < slots_.size(); ++i) {
    auto it = mine.find(slots_[i].name + ".step");
    if (it != mine.end()) steps[i] = it->second.item<int64_t>();
  }
  const auto all_steps = dp_.all_gather(steps);
  NamedTensors full;
  std::vector<std::pair<std::string, torch::Tensor>> gathered;  // field -> whole flat vector
  for (const std::string& field : state_fields()) {
    std::vector<torch::Tensor> per_piece(pieces_.size());
    for (size_t k = 0; k < pieces_.size(); ++k) {
      auto it = mine.find(pieces_[k].first + "." + field);
      if (it != mine.end()) per_piece[k] = it->second;
    }
    torch::Tensor everything = torch::empty({shard_ * dp_.size()}, options_);
    dp_.all_gather(flat_pieces(per_piece), everything);
    gathered.emplace_back(field, everything);
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    int64_t step = 0;
    for (const auto& rank_steps : all_steps) step = std::max(step, rank_steps[i]);
    if (step == 0 && settings_.kind != OptimizerKind::Sgd) continue;  // never stepped: no state
    const Slot& s = slots_[i];
    if (settings_.kind != OptimizerKind::Sgd) full.emplace_back(s.name + ".step", torch::tensor(step, torch::kLong));
    for (const auto& [field, everything] : gathered)
      full.emplace_back(s.name + "." + field, everything.narrow(0, s.offset, s.param.numel()).view(s.param.sizes()));
  }
  auto out = empty_full_optimizer();
  restore_optimizer_state(*out, groups_, full, optimizer_state_metadata(*out), "the gathered optimizer state");
  return out;
}

void ShardedOptimizer::load_full(const torch::optim::Optimizer& full) {
  NamedTensors mine;
  std::map<std::string, const Slot*> slot_of;
  for (const Slot& s : slots_) slot_of.emplace(s.name, &s);
  for (const auto& [name, t] : optimizer_state_tensors(full, groups_)) {
    const size_t dot = name.rfind('.');
    const Slot& s = *slot_of.at(name.substr(0, dot));
    if (s.piece < 0) continue;
    if (name.compare(dot + 1, std::string::npos, "step") == 0) mine.emplace_back(name, t);
    else mine.emplace_back(name, t.reshape({-1}).narrow(0, s.piece_begin, s.piece_length));
  }
  restore_optimizer_state(*inner_, piece_groups_, mine, optimizer_state_metadata(full), "the checkpoint's optimizer state");
}

}  // namespace memtx::train
