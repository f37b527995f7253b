// Optimizer state by parameter name: save -> safetensors -> restore into a fresh model + optimizer, then
// stepping gives exactly the parameters of a run that never stopped (adamw, adam, sgd with momentum); strict
// restore errors name the tensor; a failed restore changes nothing.
#include <algorithm>
#include <functional>

#include "io/safetensors.hpp"
#include "model/model_weights.hpp"
#include "train/optimizer.hpp"
#include "train/optimizer_state.hpp"
#include "train/schedule.hpp"
#include "train_support.hpp"

namespace memtx::test {
namespace {

using train::NamedTensors;

struct TrainRun {
  Transformer model;
  std::vector<train::ParamGroup> groups;
  std::unique_ptr<torch::optim::Optimizer> opt;
};

TrainRun make_run(train::OptimizerKind kind, int64_t seed) {
  TrainRun r{tiny_model({"model.seed=" + std::to_string(seed), "training.base_model_lr=1e-2",
                    "training.weight_decay=0.1"}),
        {}, nullptr};
  r.groups = train::build_param_groups(*r.model, train::param_group_settings(r.model->config()));
  train::OptimizerSettings s = train::optimizer_settings(r.model->config());
  s.kind = kind;
  s.momentum = 0.9;
  r.opt = train::make_optimizer(r.groups, s);
  return r;
}

// Steps [from, to) with the warm-up schedule applied, on fixed batches.
void train_steps(TrainRun& r, int64_t from, int64_t to) {
  train::Schedule sched;
  sched.total_steps = 10;
  sched.warmup_steps = 2;
  for (int64_t step = from; step < to; ++step) {
    train::apply_lr_factor(*r.opt, r.groups, sched.factor(step));
    r.opt->zero_grad();
    lm_loss(r.model, fixed_batch(step)).backward();
    r.opt->step();
  }
}

NamedTensors round_trip_file(const NamedTensors& tensors, const std::map<std::string, std::string>& meta,
                             const std::string& path, std::map<std::string, std::string>* meta_out) {
  io::write_safetensors(path, tensors, meta);
  auto file = io::read_safetensors(path);
  *meta_out = file.metadata;
  return file.tensors;
}

class OptimizerResume : public ::testing::TestWithParam<train::OptimizerKind> {};

TEST_P(OptimizerResume, RestoreThenStepEqualsNeverStopping) {
  const auto kind = GetParam();
  ScratchDir dir(train::optimizer_kind_name(kind));
  TrainRun a = make_run(kind, 5);
  train_steps(a, 0, 3);

  // Snapshot after 3 steps: weights + optimizer state through files.
  std::map<std::string, std::string> meta;
  const auto weights = round_trip_file(model_tensors_for_save(*a.model, torch::kFloat), {}, dir / "m.safetensors", &meta);
  const auto state = round_trip_file(train::optimizer_state_tensors(*a.opt, a.groups),
                                     train::optimizer_state_metadata(*a.opt), dir / "o.safetensors", &meta);
  EXPECT_EQ(meta.at("optimizer"), train::optimizer_kind_name(kind));
  if (kind == train::OptimizerKind::Sgd) {
    EXPECT_NE(std::find_if(state.begin(), state.end(), [](const auto& t) {
                return t.first == "layers.0.attn.q_proj.weight.momentum_buffer";
              }), state.end());
  } else {
    for (const char* field : {".step", ".exp_avg", ".exp_avg_sq"})
      EXPECT_NE(std::find_if(state.begin(), state.end(), [&](const auto& t) {
                  return t.first == std::string("embed_tokens.weight") + field;
                }), state.end()) << field;
  }

  TrainRun b = make_run(kind, 77);  // different initial weights, fresh optimizer
  ASSERT_FALSE(same_parameters(*a.model, *b.model));
  load_model_tensors(*b.model, weights, "m.safetensors");
  train::restore_optimizer_state(*b.opt, b.groups, state, meta, "o.safetensors");
  ASSERT_TRUE(same_parameters(*a.model, *b.model));

  train_steps(a, 3, 6);
  train_steps(b, 3, 6);
  EXPECT_TRUE(same_parameters(*a.model, *b.model)) << "resumed run differs from the uninterrupted one";

  // And the restore really mattered: a fresh optimizer (no state) diverges for the Adams.
  if (kind != train::OptimizerKind::Sgd) {
    TrainRun c = make_run(kind, 77);
    load_model_tensors(*c.model, weights, "m.safetensors");
    train_steps(c, 3, 6);
    EXPECT_FALSE(same_parameters(*a.model, *c.model));
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, OptimizerResume,
                         ::testing::Values(train::OptimizerKind::AdamW, train::OptimizerKind::Adam,
                                           train::OptimizerKind::Sgd),
                         [](const auto& p) { return std::string(train::optimizer_kind_name(p.param)); });

void expect_error(StatusCode code, const std::vector<std::string>& parts, const std::function<void()>& fn) {
  try {
    fn();
    ADD_FAILURE() << "expected an error mentioning " << parts.front();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(OptimizerState, StrictRestoreNamesTheTensorAndChangesNothing) {
  TrainRun a = make_run(train::OptimizerKind::AdamW, 5);
  train_steps(a, 0, 2);
  const NamedTensors good = train::optimizer_state_tensors(*a.opt, a.groups);
  auto meta = train::optimizer_state_metadata(*a.opt);
  TrainRun b = make_run(train::OptimizerKind::AdamW, 6);
  train_steps(b, 0, 1);
  auto before = train::optimizer_state_tensors(*b.opt, b.groups);
  std::vector<torch::Tensor> before_copy;
  for (auto& [n, t] : before) before_copy.push_back(t.clone());

  auto with = [&](const std::function<void(NamedTensors&)>& edit) {
    NamedTensors t = good;
    edit(t);
    return t;
  };
  auto restore = [&](const NamedTensors& t, const std::map<std::string, std::string>& m) {
    return [&, t, m] { train::restore_optimizer_state(*b.opt, b.groups, t, m, "opt.safetensors"); };
  };
  expect_error(StatusCode::Io, {"opt.safetensors", "no_such_param.exp_avg"},
               restore(with([](NamedTensors& t) { t.emplace_back("no_such_param.exp_avg", torch::zeros({2})); }), meta));
  expect_error(StatusCode::Io, {"norm.weight.momentum"},
               restore(with([](NamedTensors& t) { t.emplace_back("norm.weight.momentum", torch::zeros({32})); }), meta));
  expect_error(StatusCode::Io, {"layers.0.attn.q_proj.weight.exp_avg", "shape"}, restore(with([](NamedTensors& t) {
                 for (auto& [n, v] : t)
                   if (n == "layers.0.attn.q_proj.weight.exp_avg") v = torch::zeros({32, 31});
               }), meta));
  expect_error(StatusCode::Io, {"norm.weight.exp_avg_sq", "missing"}, restore(with([](NamedTensors& t) {
                 t.erase(std::remove_if(t.begin(), t.end(), [](const auto& x) { return x.first == "norm.weight.exp_avg_sq"; }),
                         t.end());
               }), meta));
  expect_error(StatusCode::Io, {"norm.weight.step"}, restore(with([](NamedTensors& t) {
                 for (auto& [n, v] : t)
                   if (n == "norm.weight.step") v = torch::tensor(int64_t{0});
               }), meta));
  expect_error(StatusCode::Config, {"training.optimizer", "sgd"}, restore(good, {{"optimizer", "sgd"}}));
  expect_error(StatusCode::Io, {"metadata"}, restore(good, {}));

  // Nothing changed in b's state.
  auto after = train::optimizer_state_tensors(*b.opt, b.groups);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) EXPECT_TRUE(torch::equal(after[i].second, before_copy[i])) << after[i].first;
}

TEST(OptimizerState, NoStateBeforeTheFirstStepAndRestoringEmptyClears) {
  TrainRun a = make_run(train::OptimizerKind::AdamW, 5);
  EXPECT_TRUE(train::optimizer_state_tensors(*a.opt, a.groups).empty());
  train_steps(a, 0, 1);
  EXPECT_FALSE(train::optimizer_state_tensors(*a.opt, a.groups).empty());
  train::restore_optimizer_state(*a.opt, a.groups, {}, train::optimizer_state_metadata(*a.opt), "x");
  EXPECT_TRUE(train::optimizer_state_tensors(*a.opt, a.groups).empty());
}

TEST(Optimizer, GroupsKeepTheirLrAndDecayAndKindIsDetected) {
  TrainRun r = make_run(train::OptimizerKind::AdamW, 5);
  ASSERT_EQ(r.opt->param_groups().size(), r.groups.size());
  for (size_t i = 0; i < r.groups.size(); ++i) {
    const auto& o = static_cast<const torch::optim::AdamWOptions&>(r.opt->param_groups()[i].options());
    EXPECT_DOUBLE_EQ(o.lr(), r.groups[i].lr);
    EXPECT_DOUBLE_EQ(o.weight_decay(), r.groups[i].weight_decay);
    EXPECT_DOUBLE_EQ(std::get<1>(o.betas()), 0.95);  // training.adam_beta2 default
    EXPECT_DOUBLE_EQ(o.eps(), 1e-8);
  }
  EXPECT_EQ(train::optimizer_kind(*r.opt), train::OptimizerKind::AdamW);
  EXPECT_EQ(train::optimizer_kind(*make_run(train::OptimizerKind::Sgd, 1).opt), train::OptimizerKind::Sgd);
  EXPECT_EQ(train::optimizer_settings(tiny_config({"training.optimizer=adam"})).kind, train::OptimizerKind::Adam);
}

}  // namespace
}  // namespace memtx::test
