// train/trainer.cpp: the training loop (see trainer.hpp for the step's equations and the run's life cycle).
#include "train/trainer.hpp"

#include <c10/util/StringUtil.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "data/dataset.hpp"
#include "infer/evaluate.hpp"
#include "memtx/error.hpp"
#include "model/adapter.hpp"
#include "train/checkpoint.hpp"
#include "train/checkpoint_dir.hpp"
#include "train/data_parallel.hpp"
#include "train/grad_utils.hpp"
#include "train/host_memory.hpp"
#include "model/lm_loss.hpp"
#include "model/setting_use.hpp"
#include "train/metrics_log.hpp"
#include "model/model_file.hpp"
#include "train/optimizer.hpp"
#include "train/optimizer_state.hpp"
#include "train/output_dir.hpp"
#include "train/precision.hpp"
#include "train/schedule.hpp"
#include "train/segment_groups.hpp"
#include "train/overlapped_gradient_sum.hpp"
#include "train/sharded_optimizer.hpp"
#include "io/safetensors.hpp"
#include "io/file_util.hpp"

namespace memtx::train {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

struct Settings {
  int64_t batch_size, accumulation, logging_steps, eval_steps, save_steps, max_skipped, patience;
  std::optional<int64_t> eval_max_batches, num_threads;
  double max_grad_norm, threshold;
  bool save_best, early_stopping, stop_on_nonfinite, gradient_checkpointing, eval_enabled, sharded;
  std::string output_dir, resume, mixed_precision, save_precision;
};

}  // namespace

void check_training_config(const Config& c) {
  if (c.get_bool("training.log_to_wandb"))
    throw Error(StatusCode::Config,
                "training.log_to_wandb: true is not supported (memtx talks to no online service); metrics are "
                "written to <output_dir>/metrics.jsonl and drawn by `memtx-cli plot` — set it to false");
  shards_optimizer_state(c);
  check_no_ignored_settings(c, nullptr, SettingScope::Training);
}

bool shards_optimizer_state(const Config& c) {
  if (c.get_string("training.distributed_strategy") != "fsdp") return false;
  const std::string strategy = c.get_string("training.fsdp_sharding_strategy");
  if (strategy == "NO_SHARD") return false;
  if (strategy == "SHARD_GRAD_OP") return true;
  throw Error(StatusCode::Config,
              "training.fsdp_sharding_strategy: " + strategy + " shards the parameters too, which memtx does not "
              "implement; SHARD_GRAD_OP shards the gradients and the optimizer state (ZeRO-2, the same steps as "
              "ddp with 1/world of the optimizer state per process), NO_SHARD is ddp");
}

namespace {

Settings read_settings(const Config& c) {
  check_training_config(c);
  Settings s;
  s.batch_size = c.get_int("training.batch_size");
  s.accumulation = c.get_int("training.gradient_accumulation_steps");
  s.logging_steps = c.get_int("training.logging_steps");
  s.eval_steps = c.get_int("training.eval_steps");
  s.save_steps = c.get_int("training.save_steps");
  s.max_skipped = c.get_int("training.max_skipped_steps");
  s.patience = c.get_int("training.early_stopping_patience");
  s.eval_max_batches = c.get_opt_int("training.eval_max_batches");
  s.num_threads = c.get_opt_int("training.num_threads");
  s.max_grad_norm = c.get_float("training.max_grad_norm");
  s.threshold = c.get_float("training.early_stopping_threshold");
  s.save_best = c.get_bool("training.save_best_model");
  s.early_stopping = c.get_bool("training.early_stopping");
  s.stop_on_nonfinite = c.get_string("training.on_nonfinite_loss") == "stop";
  s.gradient_checkpointing = c.get_bool("training.gradient_checkpointing");
  s.eval_enabled = c.get_opt_string("training.eval_split").has_value();
  s.output_dir = c.get_string("training.output_dir");
  s.resume = c.get_opt_string("training.resume_from_checkpoint").value_or("");
  s.mixed_precision = c.get_string("training.mixed_precision");
  s.save_precision = c.get_string("training.save_precision");
  s.sharded = shards_optimizer_state(c);
  return s;
}

// One micro-batch of a step: this rank's rows (undefined inputs when it has none), and whether every rank of a
// data-parallel run has rows of it.
struct MicroBatch {
  LmBatch rows;
  bool every_rank = true;
};

// Sets the model's global batch for one forward pass and clears it after, also when the pass throws.
class GlobalBatchScope {
 public:
  GlobalBatchScope(TransformerImpl& model, const GlobalBatch* global) : model_(model) {
    model_.set_global_batch(global);
  }
  ~GlobalBatchScope() { model_.set_global_batch(nullptr); }
  GlobalBatchScope(const GlobalBatchScope&) = delete;
  GlobalBatchScope& operator=(const GlobalBatchScope&) = delete;

 private:
  TransformerImpl& model_;
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+inf" : "-inf";
  return c10::str(v);
}

// One training run: the state the loop carries from step to step.
class Run {
 public:
  Run(TransformerImpl& model, const Config& config, const data::Tokenizer& tokenizer, const TrainHooks& hooks,
      TrainReport& report)
      : model_(model), config_(config), tokenizer_(tokenizer), hooks_(hooks), report_(report),
        s_(read_settings(config)) {}

  void execute() {
    // A folder that cannot be written is refused before anything else is done (rank 0 writes every file).
    if (dist::world_from_env().rank == 0) check_output_dir_writable(s_.output_dir);
    // In adapter mode the base folder's config.json fixes the architecture (model/adapter.hpp).
    const Config wanted = resolve_base_model_config(config_);
    check_config_compatible(model_.config(), wanted, "the model's configuration");
    check_run_matches_model(model_.config(), wanted);
    if (s_.num_threads) at::set_num_threads(static_cast<int>(*s_.num_threads));
    prepare_device();
    dp_ = DataParallel::from_environment(config_, device_);  // null unless a torchrun-style run
    if (dp_)
      log(c10::str("data parallel: ", dp_->size(), " ranks of ", s_.batch_size, " rows each, ",
                   s_.sharded ? "gradients and optimizer state sharded (fsdp SHARD_GRAD_OP)" : "gradients all-reduced (ddp)"));
    prepare_data();
    prepare_optimizer();
    if (is_main()) remove_stale_temporaries(s_.output_dir);  // what a crashed run left (checkpoint_dir.hpp)
    resume_if_asked();
    if (dp_) dp_->broadcast_model(model_);  // every rank starts from rank 0's weights
    const auto metrics_path = (std::filesystem::path(s_.output_dir) / "metrics.jsonl").string();
    if (is_main())
      metrics_ = std::make_unique<MetricsLog>(metrics_path, resumed_ ? std::optional<int64_t>(state_.step) : std::nullopt);
    report_.metrics_file = metrics_path;
    announce();
    if (s_.gradient_checkpointing && model_.segment_length() > 0)
      log(c10::str("gradient checkpointing per segment of ", model_.segment_length(),
                   " tokens: each block keeps its input and carried state, and recomputes the rest in backward"));
    const bool checkpointing_before = model_.gradient_checkpointing();
    model_.set_gradient_checkpointing(s_.gradient_checkpointing);
    model_.train();
    try {
      loop();
      finish();
    } catch (...) {
      model_.set_gradient_checkpointing(checkpointing_before);
      model_.eval();
      report_.seconds = seconds_since(start_);
      throw;
    }
    model_.set_gradient_checkpointing(checkpointing_before);
    model_.eval();
  }

 private:
  // Rank 0 of a data-parallel run (or the only process) logs, reports progress and writes files.
  bool is_main() const { return !dp_ || dp_->is_main(); }
  int64_t world() const { return dp_ ? dp_->size() : 1; }

  void log(const std::string& line) const {
    if (hooks_.log && is_main()) hooks_.log(line);
  }

  void record(const Json& entry) {
    if (metrics_) metrics_->write(entry);
  }

  bool cancel_requested() const { return hooks_.cancel && hooks_.cancel->load(); }
  // A decision every rank takes together (true when one rank asks).
  bool agreed(bool flag) { return dp_ ? dp_->any(flag) : flag; }

  // training.num_gpus: 0 the CPU; otherwise the model's device, for a rank of a CUDA run cuda:LOCAL_RANK.
  void prepare_device() {
    const dist::World world = dist::world_from_env();
    const int64_t per_node = config_.get_int("training.num_gpus");
    if (per_node > 1 && !world.distributed())
      throw Error(StatusCode::Config,
                  c10::str("training.num_gpus: ", per_node, " asks for ", per_node, " processes on this node, but this "
                           "process was started alone (WORLD_SIZE is unset) and trains as one; start the run with "
                           "memtx-cli train, which launches num_gpus workers, or torchrun --nproc_per_node ", per_node,
                           " — or set num_gpus to 1 (0: the CPU)"));
    device_ = model_.device();
    if (per_node == 0 && device_.is_cuda()) {
      model_.to(torch::kCPU);
      device_ = torch::kCPU;
    }
    if (device_.is_cuda() && world.distributed() && device_.index() != world.local_rank) {
      const int64_t visible = static_cast<int64_t>(torch::cuda::device_count());
      if (world.local_rank >= visible)
        throw Error(StatusCode::Config, c10::str("LOCAL_RANK ", world.local_rank, " has no CUDA device: ", visible,
                                                 " visible (one process per device; fewer processes, or num_gpus 0 "
                                                 "for the CPU)"));
      device_ = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(world.local_rank));
      model_.to(device_);
    }
    if (per_node >= 1 && device_.is_cpu())
      log("training on the CPU: the model is on the CPU (model.device " + config_.get_string("model.device") +
          (torch::cuda::is_available() ? ")" : ", no CUDA device is visible)"));
    // CPU training frees and reallocates the same large buffers every step: keep freed memory in the process
    // instead of taking fresh pages from the kernel each step (train/host_memory.hpp).
    if (device_.is_cpu() && retain_freed_host_memory())
      log("keeping freed host memory for reuse (glibc malloc settings; process-wide)");
    precision_ = resolve_precision(s_.mixed_precision, device_);
    if (!precision_.note.empty()) log(precision_.note);
    scaler_ = LossScaler(precision_.loss_scaling);
    report_.device = device_.str();
    report_.precision = precision_.name;
  }

  void prepare_data() {
    train_batches_ = data::make_batch_iterator(config_, tokenizer_, data::Split::Train);
    if (s_.eval_enabled) {
      has_eval_ = data::make_batch_iterator(config_, tokenizer_, data::Split::Eval) != nullptr;
      if (!has_eval_) log("no evaluation data (training.eval_split has no files and nothing was held out)");
    }
    if (s_.early_stopping && !has_eval_)
      throw Error(StatusCode::Config, "training.early_stopping needs evaluation data, and " +
                                          config_.get_string("training.dataset_name") + " has none for eval_split");
    std::optional<int64_t> steps_per_epoch;
    if (auto batches = train_batches_->total_batches(s_.batch_size)) {
      const int64_t epochs = *train_batches_->num_epochs();
      const int64_t steps = (*batches + s_.accumulation - 1) / s_.accumulation;
      steps_per_epoch = std::max<int64_t>(1, (steps + epochs - 1) / epochs);
    }
    schedule_ = schedule_from_config(config_, steps_per_epoch.value_or(0));
    state_.data_cursor = train_batches_->cursor().to_json();
    length_ = config_.get_int("training.max_length");
  }

  void prepare_optimizer() {
    groups_ = build_param_groups(model_, param_group_settings(config_));
    if (dp_ && s_.sharded) sharded_ = std::make_unique<ShardedOptimizer>(groups_, optimizer_settings(config_), *dp_);
    else optimizer_ = make_optimizer(groups_, optimizer_settings(config_));
    params_ = grouped_parameters(groups_);
    // ddp sums the gradients while the step's last backward pass runs, unless blocks are recomputed inside it.
    if (dp_ && !sharded_ && !s_.gradient_checkpointing) {
      int64_t bytes = 0;
      for (const auto& [name, p] : params_) bytes += static_cast<int64_t>(p.nbytes());
      overlap_ = std::make_unique<OverlappedGradientSum>(params_, dp_->group(), overlap_bucket_bytes(bytes));
    }
  }

  // The optimizer that steps, its groups, and the tensors whose gradients it reads (the whole parameters, or
  // this rank's pieces of them when the state is sharded).
  torch::optim::Optimizer& optimizer() { return sharded_ ? sharded_->optimizer() : *optimizer_; }
  const std::vector<ParamGroup>& optimizer_groups() const { return sharded_ ? sharded_->piece_groups() : groups_; }
  const std::vector<std::pair<std::string, torch::Tensor>>& stepped() const {
    return sharded_ ? sharded_->pieces() : params_;
  }
  void zero_grad() {
    if (sharded_) sharded_->zero_grad();
    else optimizer_->zero_grad();
  }

  void resume_if_asked() {
    if (s_.resume.empty()) return;
    std::string dir = s_.resume;
    // "latest": the newest checkpoint that loads; damaged newer ones are skipped, saying why.
    auto load = [&](torch::optim::Optimizer* optimizer) {
      if (dir != "latest") return load_checkpoint(dir, config_, model_, optimizer, groups_);
      ResumedCheckpoint found = load_latest_checkpoint(
          s_.output_dir, config_, model_, optimizer, groups_,
          [this](const std::string& path, const std::string& why) { log("skipped checkpoint " + path + ": " + why); });
      dir = found.dir;
      return found.state;
    };
    if (sharded_) {  // the single-file state of any world size; this rank keeps its range
      auto full = sharded_->empty_full_optimizer();
      state_ = load(full.get());
      sharded_->load_full(*full);
    } else {
      state_ = load(optimizer_.get());
    }
    // fp16: continue with the saved loss scale (a checkpoint of a bf16/fp32 run has none: start at 2^16).
    if (scaler_.enabled() && state_.loss_scale) scaler_.restore(state_.loss_scale->scale, state_.loss_scale->good_steps);
    train_batches_->restore(data::Cursor::from_json(state_.data_cursor));
    resumed_ = true;
    last_saved_step_ = state_.step;
    last_eval_step_ = state_.step;  // an evaluation, when due, ran before that checkpoint was written
    log("resumed from " + dir + " at step " + std::to_string(state_.step));
  }

  void announce() {
    int64_t trainable = 0, total = 0;
    for (const auto& p : model_.parameters()) {
      total += p.numel();
      if (p.requires_grad()) trainable += p.numel();
    }
    std::string groups;
    for (const auto& g : groups_)
      groups += (groups.empty() ? "" : ", ") + g.name + " (" + std::to_string(g.params.size()) + " tensors, lr " +
                format_number(g.lr) + ", wd " + format_number(g.weight_decay) + ")";
    for (const NewParameter& p : model_.new_parameters()) log(p.name + ": " + p.explanation);
    log(c10::str("training ", trainable, " of ", total, " parameters on ", device_.str(), " in ", precision_.name,
                 ", ", at::get_num_threads(), " threads; ", schedule_.total_steps, " steps of ", s_.batch_size, " x ",
                 s_.accumulation, " sequences of ", length_, " tokens; groups: ", groups));
  }

  // Gathers the step's micro-batches (this rank's rows of each global batch; an entry without rows when the
  // data's last batch leaves none to this rank); empty when the data is exhausted.
  std::vector<MicroBatch> next_micro_batches() {
    std::vector<MicroBatch> out;
    for (int64_t i = 0; i < s_.accumulation; ++i) {
      data::Batch b = train_batches_->next_batch(s_.batch_size * world());
      if (b.empty()) break;
      MicroBatch mb;
      if (dp_) {
        mb.every_rank = dp_->every_rank_has_rows(b.batch, s_.batch_size);
        b = dp_->local_rows(b, s_.batch_size);
      }
      if (!b.empty()) mb.rows = to_lm_batch(b, device_);
      out.push_back(std::move(mb));
    }
    return out;
  }

  // Adds the memory routers' unweighted losses of the last forward (all its segments) to the logging window's sums.
  void accumulate_router_losses() {
    for (const auto& [key, value] : model_.router_losses()) {
      torch::Tensor v = value.detach().to(torch::kFloat64);
      auto it = router_sums_.find(key);
      if (it == router_sums_.end()) router_sums_.emplace(key, v);
      else it->second = it->second + v;
    }
    ++router_forwards_;
  }

  // {"type": "router", "step", "values": {"layers.<i>.memory.<loss>": mean over the window's forward passes}}.
  void log_router_losses(int64_t step) {
    if (router_sums_.empty()) return;
    Json values = Json::object();
    for (const auto& [key, sum] : router_sums_) values[key] = sum.item<double>() / static_cast<double>(router_forwards_);
    record({{"type", "router"}, {"step", step}, {"values", values}});
    router_sums_.clear();
    router_forwards_ = 0;
  }

  // Forward and backward over the micro-batches; returns this rank's token-loss sum divided by count (the
  // step's target count over every rank), or nullopt when cancelled. A data-parallel run is cancelled only
  // between steps, where the ranks agree on it.
  // A layer's global-batch statistics are added over the ranks (the memory router's losses) when every rank
  // has rows of the micro-batch; the last, short batch of the data falls back to each rank's own rows.
  std::optional<double> accumulate(const std::vector<MicroBatch>& micro, int64_t count) {
    zero_grad();
    double loss_sum = 0;
    const double k = static_cast<double>(micro.size()) * static_cast<double>(world());
    for (size_t i = 0; i < micro.size(); ++i) {
      const auto& [mb, every_rank] = micro[i];
      if (!dp_ && cancel_requested()) return std::nullopt;
      if (!mb.inputs.defined()) continue;  // no rows for this rank
      // A segmented model back-propagates each group of detach_every segments at once (train/segment_groups.hpp).
      SegmentGroups groups(model_, mb.inputs);
      for (size_t g = 0; g < groups.size(); ++g) {
        torch::Tensor objective, lm_sum;
        {
          AutocastScope autocast(precision_, device_);
          GlobalBatchScope global(model_, dp_ && every_rank ? &dp_->global_batch() : nullptr);
          torch::Tensor logits = groups.forward(g);
          lm_sum = masked_lm_loss_sum(logits, groups.slice(mb.targets, g), groups.slice(mb.weights, g));
          objective = lm_sum / static_cast<double>(std::max<int64_t>(count, 1));
          torch::Tensor aux = model_.auxiliary_loss();  // every layer, every segment of this pass
          if (aux.defined()) objective = objective + aux.to(torch::kFloat32) / (k / groups.token_share(g));
          accumulate_router_losses();
        }
        // The step's last backward pass starts the overlapped gradient sums.
        if (overlap_ && i + 1 == micro.size() && g + 1 == groups.size()) overlap_->arm();
        (objective * scaler_.scale()).backward();
        loss_sum += lm_sum.item<double>();
        groups.cut();
      }
    }
    return loss_sum / static_cast<double>(std::max<int64_t>(count, 1));
  }

  // The variants' own diagnostics (infini: gate values per head, memory norms, segment activations, gate
  // gradient norms), read after the step's backward pass from each layer whose metrics_interval() divides the
  // step: {"type": "layers", "step", "values": {name: value}}.
  void log_layer_metrics(int64_t step) {
    Json values = Json::object();
    for (size_t i = 0; i < model_.blocks.size(); ++i) {
      const auto& attn = model_.blocks[i]->attn;
      const int64_t every = attn->metrics_interval();
      if (every <= 0 || step % every != 0) continue;
      for (const auto& [name, value] : attn->metrics()) values["layers." + std::to_string(i) + ".attn." + name] = value;
    }
    if (!values.empty()) record({{"type", "layers"}, {"step", step}, {"values", values}});
  }

  // Non-finite loss or gradient: record it, then stop or skip.
  void handle_nonfinite(int64_t step, const std::string& what) {
    ++state_.skipped_steps;
    ++consecutive_skips_;
    report_.skipped_steps = state_.skipped_steps;
    record({{"type", "event"}, {"step", step}, {"event", "nonfinite"}, {"detail", what}});
    const std::string last = report_.last_checkpoint.empty() ? "none" : report_.last_checkpoint;
    if (s_.stop_on_nonfinite)
      throw Error(StatusCode::Torch, c10::str("step ", step, ": ", what, "; training stopped "
                                              "(training.on_nonfinite_loss: stop; last checkpoint: ", last,
                                              "). Lower the learning rate, or set on_nonfinite_loss: skip"));
    log(c10::str("step ", step, ": ", what, "; update skipped (", consecutive_skips_, " in a row)"));
    if (consecutive_skips_ >= s_.max_skipped)
      throw Error(StatusCode::Torch, c10::str("step ", step, ": ", consecutive_skips_,
                                              " steps in a row had a non-finite loss or gradient "
                                              "(training.max_skipped_steps); training stopped (last checkpoint: ",
                                              last, ")"));
    zero_grad();
  }

  // One optimizer step over micro; returns false when cancelled before the update.
  bool step(const std::vector<MicroBatch>& micro) {
    const int64_t step_number = state_.step + 1;
    int64_t count = 0, tokens = 0;
    for (const auto& [mb, every_rank] : micro) {
      count += mb.target_count;
      tokens += mb.inputs.defined() ? mb.inputs.numel() : 0;
    }
    if (dp_) {
      const auto totals = dp_->sum({count, tokens});
      count = totals[0];
      tokens = totals[1];
    }
    auto loss = accumulate(micro, count);
    if (!loss) return false;
    if (sharded_) log_layer_metrics(step_number);  // before the whole gradients are freed: rank 0's own
    if (dp_) {
      const auto reduce_start = Clock::now();
      *loss = dp_->sum(*loss);
      if (sharded_) sharded_->reduce_scatter_gradients();
      else if (overlap_) overlap_->finish();
      else dp_->sum_gradients(params_);
      report_.gradient_reduction_seconds += seconds_since(reduce_start);
    }
    if (!sharded_) log_layer_metrics(step_number);
    last_loss_ = *loss;
    last_grad_norm_ = std::numeric_limits<double>::quiet_NaN();
    const bool finite_loss = std::isfinite(*loss);
    std::optional<std::string> bad_grad = finite_loss ? first_nonfinite_grad(stepped()) : std::nullopt;
    if (sharded_ && finite_loss) bad_grad = dp_->first_of_ranks(bad_grad);  // each rank checked its own range
    const double factor = schedule_.factor(state_.scheduler_step);
    last_lr_ = main_group().lr * factor;
    if (count == 0) {
      log(c10::str("step ", step_number, ": every target of the batch is masked; no update"));
    } else if (scaler_.enabled() && finite_loss && bad_grad) {
      scaler_.update(false);
      log(c10::str("step ", step_number, ": fp16 gradient overflow; update skipped, loss scale now ", scaler_.scale()));
    } else if (!finite_loss || bad_grad) {
      handle_nonfinite(step_number, !finite_loss ? "the loss is " + format_number(*loss)
                                                 : "the gradient of " + *bad_grad + " is not finite");
    } else {
      scaler_.unscale(stepped());
      GradNormReduction over_ranks;
      if (sharded_) over_ranks = [this](double sum_of_squares) { return dp_->sum(sum_of_squares); };
      last_grad_norm_ = clip_grad_norm(stepped(), s_.max_grad_norm, over_ranks);
      apply_lr_factor(optimizer(), optimizer_groups(), factor);
      if (sharded_) sharded_->step();
      else optimizer_->step();
      scaler_.update(true);
      consecutive_skips_ = 0;
      window_loss_ += *loss;
      ++window_steps_;
    }
    state_.step = step_number;
    ++state_.scheduler_step;
    state_.tokens_seen += tokens;
    tokens_this_run_ += tokens;
    state_.epoch = train_batches_->epoch();
    state_.data_cursor = train_batches_->cursor().to_json();
    return true;
  }

  // The group whose learning rate progress reports: "base" when there is one, else the first.
  const ParamGroup& main_group() const {
    for (const auto& g : groups_)
      if (g.name == "base") return g;
    return groups_.front();
  }

  TrainProgress progress(TrainEvent event) const {
    TrainProgress p;
    p.event = event;
    p.step = state_.step;
    p.total_steps = schedule_.total_steps;
    p.epoch = state_.epoch;
    p.tokens_seen = state_.tokens_seen;
    p.loss = last_loss_;
    p.learning_rate = last_lr_;
    p.grad_norm = last_grad_norm_;
    p.elapsed_seconds = seconds_since(start_);
    p.tokens_per_second = p.elapsed_seconds > 0 ? tokens_this_run_ / p.elapsed_seconds : 0;
    const int64_t done = state_.step - first_step_;
    p.eta_seconds = done > 0 ? (schedule_.total_steps - state_.step) * p.elapsed_seconds / done : -1;
    p.eval_loss = last_eval_loss_;
    return p;
  }

  // Calls the progress hook (rank 0 only); true when it asks to stop.
  bool notify(TrainEvent event) {
    return is_main() && hooks_.on_progress && hooks_.on_progress(progress(event));
  }

  void log_metrics() {
    const TrainProgress p = progress(TrainEvent::Step);
    const double mean = window_steps_ > 0 ? window_loss_ / window_steps_ : std::numeric_limits<double>::quiet_NaN();
    record({{"type", "train"}, {"step", p.step}, {"epoch", p.epoch}, {"loss", mean},
                     {"lr", p.learning_rate}, {"grad_norm", p.grad_norm}, {"tokens_per_second", p.tokens_per_second},
                     {"tokens", p.tokens_seen}, {"elapsed", p.elapsed_seconds}});
    window_loss_ = 0;
    window_steps_ = 0;
    log_router_losses(p.step);
  }

  void save() {
    state_.loss_scale.reset();
    if (scaler_.enabled()) state_.loss_scale = LossScaleState{scaler_.scale(), scaler_.good_steps()};
    std::unique_ptr<torch::optim::Optimizer> gathered;  // sharded state: every rank's, in the one-file layout
    if (sharded_) gathered = sharded_->gather_full_optimizer();
    const torch::optim::Optimizer& whole = gathered ? *gathered : *optimizer_;
    if (is_main())
      report_.last_checkpoint = save_checkpoint(s_.output_dir, config_, model_, whole, groups_, state_);
    else
      report_.last_checkpoint = (std::filesystem::path(s_.output_dir) / checkpoint_name(state_.step)).string();
    if (dp_) dp_->barrier();  // the checkpoint is complete before any rank goes on
    last_saved_step_ = state_.step;
    record({{"type", "event"}, {"step", state_.step}, {"event", "checkpoint"}, {"path", report_.last_checkpoint}});
    log("saved " + report_.last_checkpoint);
    notify(TrainEvent::Checkpoint);
  }

  // Evaluation; returns true when early stopping ends the run.
  bool evaluate() {
    last_eval_step_ = state_.step;
    auto batches = data::make_batch_iterator(config_, tokenizer_, data::Split::Eval);
    infer::EvalResult result;
    {
      AutocastScope autocast(precision_, device_);
      // Every rank evaluates the same data with the same weights, so early stopping agrees; a data-parallel
      // evaluation is not cut short by one rank's cancel (the ranks would then disagree).
      result = infer::evaluate(model_, *batches, s_.batch_size, s_.eval_max_batches, dp_ ? nullptr : hooks_.cancel);
    }
    model_.train();
    last_eval_loss_ = result.loss;
    record({{"type", "eval"}, {"step", state_.step}, {"eval_loss", result.loss},
                     {"eval_perplexity", result.perplexity}, {"eval_accuracy", result.accuracy},
                     {"eval_tokens", result.tokens}});
    log(c10::str("step ", state_.step, ": eval loss ", result.loss, ", perplexity ", result.perplexity));
    const bool improved = std::isfinite(result.loss) &&
                          (!state_.best_metric || result.loss < *state_.best_metric - s_.threshold);
    if (improved) {
      state_.best_metric = result.loss;
      state_.evals_without_improvement = 0;
      if (s_.save_best) {
        state_.best_checkpoint = checkpoint_name(state_.step);
        save();
        report_.best_checkpoint = report_.last_checkpoint;
      }
    } else {
      ++state_.evals_without_improvement;
    }
    report_.best_eval_loss = state_.best_metric;
    notify(TrainEvent::Eval);
    if (s_.early_stopping && state_.evals_without_improvement >= s_.patience) {
      record({{"type", "event"}, {"step", state_.step}, {"event", "early_stop"}});
      log(c10::str("early stopping at step ", state_.step, ": no improvement of more than ", s_.threshold, " in ",
                   s_.patience, " evaluations (best ", *state_.best_metric, ")"));
      return true;
    }
    return false;
  }

  void loop() {
    start_ = Clock::now();
    first_step_ = state_.step;
    while (true) {
      if (state_.step >= schedule_.total_steps) {
        report_.status = "completed";
        return;
      }
      if (agreed(cancel_requested())) {
        report_.status = "cancelled";
        return;
      }
      const data::Cursor cursor_before = train_batches_->cursor();
      const auto micro = next_micro_batches();
      if (micro.empty()) {
        log(c10::str("the training data is exhausted after ", state_.epoch, " epochs"));
        report_.status = "completed";
        return;
      }
      if (!step(micro)) {
        train_batches_->restore(cursor_before);  // the abandoned step's data is served again on resume
        report_.status = "cancelled";
        return;
      }
      const bool stop_asked = agreed(notify(TrainEvent::Step));
      if (state_.step % s_.logging_steps == 0) log_metrics();
      if (has_eval_ && state_.step % s_.eval_steps == 0 && evaluate()) {
        report_.status = "early_stopped";
        return;
      }
      if (state_.step % s_.save_steps == 0 && last_saved_step_ != state_.step) save();
      if (stop_asked) {
        report_.status = "cancelled";
        return;
      }
    }
  }

  // Written as "final_model.tmp-<pid>" and renamed over final_model/ (checkpoint_dir.hpp), so a crash or a full
  // disk leaves the previous final model or none, never a folder of mixed files.
  void save_final_model() {
    const auto dir = std::filesystem::path(s_.output_dir) / kFinalModelDir;
    ModelFileOptions options;  // quantised memory banks packed (model/model_file.hpp)
    options.precision = s_.save_precision;
    if (is_main()) {
      const std::string tmp = dir.string() + ".tmp-" + std::to_string(::getpid());
      std::error_code ec;
      std::filesystem::remove_all(tmp, ec);
      try {
        save_model_folder(tmp, model_, config_, options);
        sync_folder(tmp);
        move_folder_into_place(tmp, dir.string());
      } catch (...) {
        std::filesystem::remove_all(tmp, ec);
        throw;
      }
    }
    if (dp_) dp_->barrier();
    report_.final_model = dir.string();
    log("final model written to " + report_.final_model);
  }

  void finish() {
    const bool cancelled = report_.status == "cancelled";
    if (cancelled) {
      record({{"type", "event"}, {"step", state_.step}, {"event", "cancelled"}});
      log(c10::str("stopped at step ", state_.step, " on request"));
    }
    if (window_steps_ > 0) log_metrics();
    if (!cancelled && has_eval_ && last_eval_step_ != state_.step && report_.status != "early_stopped") evaluate();
    if (last_saved_step_ != state_.step || report_.last_checkpoint.empty()) save();
    if (!cancelled) save_final_model();
    report_.steps = state_.step;
    report_.epochs = state_.epoch;
    report_.final_loss = last_loss_;
    report_.seconds = seconds_since(start_);
    report_.tokens_per_second = report_.seconds > 0 ? tokens_this_run_ / report_.seconds : 0;
    report_.rank = dp_ ? dp_->rank() : 0;
    report_.world_size = world();
    report_.gradient_buckets_overlapped = overlap_ ? overlap_->started_in_backward_total() : 0;
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) == 0) report_.peak_rss_bytes = static_cast<int64_t>(usage.ru_maxrss) * 1024;
    report_.optimizer_state_bytes = optimizer_state_bytes(optimizer(), optimizer_groups());
    notify(TrainEvent::Done);
  }

  TransformerImpl& model_;
  const Config& config_;
  const data::Tokenizer& tokenizer_;
  const TrainHooks& hooks_;
  TrainReport& report_;
  Settings s_;

  torch::Device device_{torch::kCPU};
  Precision precision_;
  LossScaler scaler_{false};
  std::unique_ptr<data::BatchIterator> train_batches_;
  bool has_eval_ = false;
  Schedule schedule_;
  int64_t length_ = 0;
  std::vector<ParamGroup> groups_;
  std::unique_ptr<DataParallel> dp_;     // null for a single process; declared first: the two below refer to it
  std::unique_ptr<torch::optim::Optimizer> optimizer_;  // null when sharded_ steps instead
  std::unique_ptr<ShardedOptimizer> sharded_;           // fsdp SHARD_GRAD_OP in a data-parallel run
  std::unique_ptr<OverlappedGradientSum> overlap_;      // ddp without activation checkpointing
  std::vector<std::pair<std::string, torch::Tensor>> params_;
  std::unique_ptr<MetricsLog> metrics_;  // rank 0 only

  TrainerState state_;
  bool resumed_ = false;
  int64_t last_saved_step_ = -1, last_eval_step_ = -1, first_step_ = 0;
  int64_t consecutive_skips_ = 0, tokens_this_run_ = 0, window_steps_ = 0;
  double window_loss_ = 0, last_loss_ = std::numeric_limits<double>::quiet_NaN();
  std::map<std::string, torch::Tensor> router_sums_;  // memory router losses summed over the logging window
  int64_t router_forwards_ = 0;
  double last_lr_ = 0, last_grad_norm_ = std::numeric_limits<double>::quiet_NaN();
  double last_eval_loss_ = std::numeric_limits<double>::quiet_NaN();
  Clock::time_point start_ = Clock::now();
};

Json number_or_null(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

}  // namespace

std::string TrainReport::to_json() const {
  Json j = {{"status", status},
            {"steps", steps},
            {"epochs", epochs},
            {"final_loss", number_or_null(final_loss)},
            {"best_eval_loss", best_eval_loss ? Json(*best_eval_loss) : Json(nullptr)},
            {"best_checkpoint", best_checkpoint},
            {"last_checkpoint", last_checkpoint},
            {"final_model", final_model},
            {"metrics_file", metrics_file},
            {"device", device},
            {"precision", precision},
            {"tokens_per_second", tokens_per_second},
            {"seconds", seconds},
            {"skipped_steps", skipped_steps},
            {"rank", rank},
            {"world_size", world_size},
            {"optimizer_state_bytes", optimizer_state_bytes},
            {"gradient_reduction_seconds", gradient_reduction_seconds},
            {"gradient_buckets_overlapped", gradient_buckets_overlapped},
            {"peak_rss_bytes", peak_rss_bytes}};
  if (!error.empty()) j["error"] = error;
  return j.dump(2, ' ', false, Json::error_handler_t::replace);  // paths and messages need not be UTF-8
}

void train(TransformerImpl& model, const Config& config, const data::Tokenizer& tokenizer, const TrainHooks& hooks,
           TrainReport& report) {
  report = TrainReport();
  try {
    Run(model, config, tokenizer, hooks, report).execute();
  } catch (const std::exception& e) {
    report.status = "failed";
    report.error = e.what();
    throw;
  }
}

}  // namespace memtx::train
