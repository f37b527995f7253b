// Chapter routing of memory layers: the router losses against values computed by hand from the router
// logits, which strategies are causal (token and rolling: changing later tokens leaves earlier logits
// unchanged, in training and inference; sequence is not), rolling and sequence routing fed piece by piece
// through the model's state, the gathered (sequence) and dense (token, rolling) paths agreeing, and the
// weighted auxiliary_loss(), and the global-batch losses of a data-parallel run (two halves of a batch, each
// summed with the other's statistics, give the whole batch's losses and, added, its gradients).
#include <cmath>

#include "memory_support.hpp"

namespace memtx::test {
namespace {

using memory::make_layer;
using memory::memory_config;

constexpr int64_t kRouterDim = 32;

double lse(const std::vector<double>& z) {
  double m = z[0];
  for (double v : z) m = std::max(m, v);
  double s = 0;
  for (double v : z) s += std::exp(v - m);
  return m + std::log(s);
}

std::vector<double> softmax(const std::vector<double>& z) {
  const double l = lse(z);
  std::vector<double> p;
  for (double v : z) p.push_back(std::exp(v - l));
  return p;
}

// Two tokens, four chapters, top 2, token routing, router = identity on the first four channels, so the
// logits are the inputs' first four channels: z0 = [2, 1, 0, -1] (picks 0, 1), z1 = [0.5, 0, 3, -0.5] (picks
// 2, 0). Then f = [2, 1, 1, 0] / 4, P = (p0 + p1) / 2, importance I = p0 + p1 (mean 1/2):
//   load_balance = 4 sum f_i P_i,  auxiliary = mean (I_i - 1/2)^2 / (1/2)^2,  z_loss = (lse(z0)^2 + lse(z1)^2) / 2.
TEST(MemoryRouter, LossesMatchHandComputedValues) {
  auto m = make_layer({"memory.use_chapters=true", "memory.num_chapters=4", "memory.top_k_chapters=2",
                       "memory.routing_strategy_inference=token", "memory.routing_strategy_train=token",
                       "memory.use_load_balance_loss=true", "memory.load_balance_coefficient=0.5",
                       "memory.use_auxiliary_loss=true", "memory.auxiliary_loss_coefficient=0.25",
                       "memory.use_z_loss=true", "memory.z_loss_coefficient=0.125"});
  m->to(torch::kFloat64);
  m.bank->to(torch::kFloat64);
  {
    torch::NoGradGuard guard;
    auto w = m.layer->named_parameters()["router.weight"];
    w.zero_();
    for (int64_t c = 0; c < 4; ++c) w[c][c] = 1.0;
  }
  const std::vector<double> z0 = {2, 1, 0, -1}, z1 = {0.5, 0, 3, -0.5};
  auto x = torch::zeros({1, 2, kRouterDim}, torch::kFloat64);
  for (int64_t c = 0; c < 4; ++c) {
    x[0][0][c] = z0[c];
    x[0][1][c] = z1[c];
  }
  const auto p0 = softmax(z0), p1 = softmax(z1);
  const std::vector<double> f = {0.5, 0.25, 0.25, 0.0};
  double lb = 0, aux = 0;
  for (int c = 0; c < 4; ++c) {
    lb += 4.0 * f[c] * (p0[c] + p1[c]) / 2.0;
    aux += std::pow(p0[c] + p1[c] - 0.5, 2) / 4.0 / 0.25;
  }
  const double zl = (std::pow(lse(z0), 2) + std::pow(lse(z1), 2)) / 2.0;

  for (bool training : {false, true}) {
    m->train(training);
    AttentionContext ctx;
    m->forward(x, ctx);
    auto losses = m->router_losses();
    ASSERT_EQ(losses.size(), 3u);
    EXPECT_NEAR(losses.at("load_balance").item<double>(), lb, 1e-6);
    EXPECT_NEAR(losses.at("auxiliary").item<double>(), aux, 1e-6);
    EXPECT_NEAR(losses.at("z_loss").item<double>(), zl, 1e-5);
    EXPECT_NEAR(m->auxiliary_loss().item<double>(), 0.5 * lb + 0.25 * aux + 0.125 * zl, 1e-5);
    EXPECT_TRUE(m->has_router_loss());
  }
  // Uniform routing (every logit equal, top k = all): load balance 1, auxiliary 0, z = log(4)^2.
  {
    auto u = make_layer({"memory.use_chapters=true", "memory.num_chapters=4", "memory.top_k_chapters=4",
                         "memory.routing_strategy_inference=token"});
    torch::NoGradGuard guard;
    u.layer->named_parameters()["router.weight"].zero_();
    u->eval();
    AttentionContext ctx;
    u->forward(torch::randn({2, 3, kRouterDim}), ctx);
    EXPECT_NEAR(u->router_losses().at("load_balance").item<double>(), 1.0, 1e-6);
    EXPECT_NEAR(u->router_losses().at("auxiliary").item<double>(), 0.0, 1e-9);
    EXPECT_NEAR(u->router_losses().at("z_loss").item<double>(), std::pow(std::log(4.0), 2), 1e-5);
    EXPECT_NEAR(u->auxiliary_loss().item<double>(), 0.01 * 1.0, 1e-7);  // the default: load balance only, 0.01
  }
  // Only the enabled losses are added; none enabled: no auxiliary loss at all.
  auto none = make_layer({"memory.use_chapters=true", "memory.num_chapters=4", "memory.top_k_chapters=2",
                          "memory.use_load_balance_loss=false"});
  AttentionContext ctx;
  none->forward(torch::randn({1, 3, kRouterDim}), ctx);
  EXPECT_FALSE(none->auxiliary_loss().defined());
  EXPECT_FALSE(none->has_router_loss());
  EXPECT_EQ(none->router_losses().size(), 3u) << "still reported for logging";
}

// Stand-ins for the trainer's GlobalBatch of two ranks: one records this rank's statistics, the other adds the
// other rank's (recorded) statistics to this rank's, the gradient reaching this rank's share only.
struct RecordingBatch : GlobalBatch {
  mutable torch::Tensor seen;
  torch::Tensor sum(const torch::Tensor& t) const override {
    seen = t.detach().clone();
    return t;
  }
};
struct OtherRankBatch : GlobalBatch {
  torch::Tensor other;
  torch::Tensor sum(const torch::Tensor& t) const override { return t + other; }
};

TEST(MemoryRouter, GlobalBatchLossesAreTheWholeBatchLosses) {
  for (const std::string strategy : {"token", "sequence"}) {
    SCOPED_TRACE(strategy);
    auto m = make_layer({"memory.use_chapters=true", "memory.num_chapters=4", "memory.top_k_chapters=2",
                         "memory.routing_strategy_train=" + strategy, "memory.use_load_balance_loss=true",
                         "memory.load_balance_coefficient=0.5", "memory.use_auxiliary_loss=true",
                         "memory.auxiliary_loss_coefficient=0.25", "memory.use_z_loss=true",
                         "memory.z_loss_coefficient=0.125"});
    m->to(torch::kFloat64);
    m.bank->to(torch::kFloat64);
    m->train();
    torch::manual_seed(11);
    const auto x = torch::randn({4, 5, kRouterDim}, torch::kFloat64);
    const auto halves = std::vector<torch::Tensor>{x.narrow(0, 0, 1), x.narrow(0, 1, 3)};  // uneven on purpose
    auto router_grad = [&] { return m.layer->named_parameters()["router.weight"].grad().clone(); };

    AttentionContext whole;
    m->forward(x, whole);
    const auto expected = m->router_losses();
    m->zero_grad();
    m->auxiliary_loss().backward();
    const auto expected_grad = router_grad();

    std::vector<RecordingBatch> recorded(2);
    for (int r = 0; r < 2; ++r) {
      AttentionContext ctx;
      ctx.global_batch = &recorded[r];
      torch::NoGradGuard no_grad;
      m->forward(halves[r], ctx);
    }
    m->zero_grad();
    for (int r = 0; r < 2; ++r) {
      OtherRankBatch global;
      global.other = recorded[1 - r].seen;
      AttentionContext ctx;
      ctx.global_batch = &global;
      m->forward(halves[r], ctx);
      for (const auto& [name, value] : expected)
        EXPECT_NEAR(m->router_losses().at(name).item<double>(), value.item<double>(), 1e-12) << name << " rank " << r;
      m->auxiliary_loss().backward();  // gradients add up over the ranks
    }
    EXPECT_LT(max_abs_diff(router_grad(), expected_grad), 1e-12);
    EXPECT_GT(expected_grad.abs().max().item<double>(), 1e-6) << "the router losses have a gradient";
  }
}

std::vector<std::string> chapter_model(const std::string& train, const std::string& inference) {
  return {"memory.use_chapters=true", "memory.num_chapters=4", "memory.top_k_chapters=2",
          "memory.routing_strategy_train=" + train, "memory.routing_strategy_inference=" + inference,
          "memory.routing_window_size=3", "memory.wo_init_zero=false", "model.num_layers=3",
          "attention.n_kv_group=2"};
}

double earliest_change(Transformer& model, const torch::Tensor& tokens, int64_t t) {
  auto logits = model->forward(tokens);
  auto changed = tokens.clone();
  changed.narrow(1, t + 1, tokens.size(1) - t - 1).random_(0, 97);
  return max_abs_diff(logits.narrow(1, 0, t + 1), model->forward(changed).narrow(1, 0, t + 1));
}

// Token and rolling routing are causal in training (routing_strategy_train) and inference; sequence routing
// is not: later tokens move the pooled summary, hence the gates every position reads.
TEST(MemoryRouter, TokenAndRollingRoutingAreCausalSequenceIsNot) {
  torch::manual_seed(5);
  auto tokens = torch::randint(0, 97, {2, 12}, torch::kLong);
  torch::NoGradGuard guard;
  for (const std::string strategy : {"token", "rolling"}) {
    Transformer model(memory_config(chapter_model(strategy, strategy)), plugin_registry());
    for (bool training : {true, false}) {
      model->train(training);
      for (int64_t t : {0, 4, 9}) EXPECT_LT(earliest_change(model, tokens, t), 1e-5) << strategy << " t=" << t;
    }
  }
  Transformer model(memory_config(chapter_model("sequence", "sequence")), plugin_registry());
  model->eval();
  EXPECT_GT(earliest_change(model, tokens, 4), 1e-6) << "sequence routing pools future tokens";
}

// Fed in pieces through the model's state: rolling routing keeps its window and gives the logits of the whole
// sequence; sequence routing pools everything seen so far, so each decoding step of a model whose one memory
// layer is in the last block gives the last logits of the whole-sequence forward of its prefix.
TEST(MemoryRouter, RoutingStateCarriesAcrossCalls) {
  torch::manual_seed(6);
  auto tokens = torch::randint(0, 97, {2, 10}, torch::kLong);
  torch::NoGradGuard guard;
  {
    Transformer model(memory_config(chapter_model("rolling", "rolling")), plugin_registry());
    model->eval();
    auto full = model->forward(tokens);
    auto state = model->initial_state(2);
    std::vector<torch::Tensor> pieces{model->forward(tokens.narrow(1, 0, 4), &state, true)};
    for (int64_t t = 4; t < 10; ++t) pieces.push_back(model->forward(tokens.narrow(1, t, 1), &state, true));
    EXPECT_LT(max_abs_diff(torch::cat(pieces, 1), full), 1e-5);
    EXPECT_EQ(state.layers[0].at("memory.routing_window").size(1), 2) << "W - 1 = 2 inputs kept";
  }
  {
    // One memory layer, in the last block: everything before it is causal, so the prefix forward pools the
    // same vectors the state summed. (With memory in an earlier block, the non-causal routing there changes the
    // earlier positions' hidden states, which later blocks' attention reads, as the sequence grows.)
    auto options = chapter_model("sequence", "sequence");
    options.insert(options.end(), {"memory.memory_layer_placement=last_k", "memory.memory_layer_k=1"});
    Transformer model(memory_config(options), plugin_registry());
    model->eval();
    auto state = model->initial_state(2);
    model->forward(tokens.narrow(1, 0, 4), &state, true);
    for (int64_t t = 4; t < 10; ++t) {
      auto step = model->forward(tokens.narrow(1, t, 1), &state, true);
      auto prefix = model->forward(tokens.narrow(1, 0, t + 1));
      EXPECT_LT(max_abs_diff(step, prefix.narrow(1, t, 1)), 1e-5) << "t=" << t;
    }
  }
}

// With the same input at every position, the mean of any window is that input: sequence (gathered chapters),
// rolling and token (dense, unchosen chapters weighted 0) routing choose alike and give the same output.
TEST(MemoryRouter, GatheredAndDensePathsAgree) {
  auto x = torch::randn({2, 1, kRouterDim}).expand({2, 6, kRouterDim}).contiguous();
  torch::Tensor first;
  for (const std::string strategy : {"sequence", "rolling", "token"}) {
    auto m = make_layer({"memory.use_chapters=true", "memory.num_chapters=4", "memory.top_k_chapters=3",
                         "attention.n_kv_group=2", "memory.routing_strategy_inference=" + strategy,
                         "memory.routing_window_size=2"},
                        /*seed=*/9);
    m->eval();
    AttentionContext ctx;
    auto out = m->forward(x, ctx);
    if (!first.defined()) first = out;
    else EXPECT_LT(max_abs_diff(out, first), 1e-5) << strategy;
  }
  EXPECT_GT(first.abs().max().item<double>(), 1e-3);
}

// Gradient checkpointing recomputes memory blocks without a router loss and keeps the others as they are:
// the gradients equal those of the plain backward pass either way.
TEST(MemoryRouter, GradientCheckpointingKeepsRouterGradients) {
  for (const std::string losses : {"true", "false"}) {
    auto config = memory_config({"memory.use_chapters=true", "memory.num_chapters=4", "memory.top_k_chapters=2",
                                 "memory.routing_strategy_train=token", "memory.wo_init_zero=false",
                                 "memory.use_load_balance_loss=" + losses, "memory.memory_block_variant=B"});
    auto grads = [&](bool checkpointing) {
      Transformer model(config, plugin_registry());
      model->train();
      model->set_gradient_checkpointing(checkpointing);
      torch::manual_seed(1);
      auto tokens = torch::randint(0, 97, {2, 8}, torch::kLong);
      auto loss = model->forward(tokens).pow(2).mean();
      for (auto& block : model->blocks) {
        auto aux = block->memory->cross_attn->auxiliary_loss();
        if (aux.defined()) loss = loss + aux;
      }
      loss.backward();
      std::map<std::string, torch::Tensor> out;
      for (const auto& kv : model->named_parameters())
        if (kv.value().grad().defined()) out[kv.key()] = kv.value().grad().clone();
      return out;
    };
    auto plain = grads(false), checkpointed = grads(true);
    ASSERT_EQ(plain.size(), checkpointed.size()) << losses;
    for (const auto& [name, g] : plain) EXPECT_LT(max_abs_diff(checkpointed.at(name), g), 1e-6) << losses << " " << name;
    if (losses == "true") EXPECT_GT(plain.at("layers.0.memory.cross_attn.router.weight").abs().max().item<double>(), 0.0);
  }
}

}  // namespace
}  // namespace memtx::test
