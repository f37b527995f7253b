// The infini plugin (Infini-attention) as a whole: against the float64 reference of recurrent_support.hpp
// (forward and every gradient, both update rules, every gate function, GQA, both RoPE layouts), against the
// causal plugin on the same weights (turn_on_memory false, or a gate closed on the memory), fused and explicit
// local attention, the gate (initial values, gradients, its parameter group), the logging metrics, and its
// options. Decoding in pieces (module and whole model), causality, the state, bfloat16 and errors:
// recurrent_variants_test.cpp.
#include <cmath>
#include <tuple>

#include "recurrent_support.hpp"
#include "train/param_groups.hpp"

namespace memtx::test {
namespace {

using namespace recurrent;

double gate_closed_form(double b, const std::string& act) {
  if (act == "orig_sigmoid") return 1.0 / (1.0 + std::exp(-b));
  if (act == "hard_sigmoid") return std::min(1.0, std::max(0.0, b / 6.0 + 0.5));
  return std::min(1.0, std::max(0.0, b));
}

class InfiniVsReference : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(InfiniVsReference, ForwardAndGradientsMatch) {
  const std::string update = std::get<0>(GetParam()), act = std::get<1>(GetParam());
  auto m = make_module("infini", {"attention.n_kv_group=2", "infini_attention.segment_length=4",
                                  "infini_attention.memory_update=" + update, "infini_attention.balance_act_type=" + act});
  spread_weights(*m.module);
  m->to(torch::kFloat64);
  {
    // Gates spread over each function's range (clamp: below 0, inside, above 1).
    torch::NoGradGuard guard;
    const double s = act == "hard_sigmoid" ? 3.0 : 1.0;
    m->named_parameters()["balance"].copy_(torch::tensor({-0.5 * s, 0.3 * s, 0.8 * s, 1.5 * s}, torch::kFloat64));
  }
  torch::manual_seed(3);
  auto x = torch::randn({2, 14, 32}, torch::kFloat64);  // segments of 4, 4, 4, 2
  InfiniRef o;
  o.delta = update == "delta";
  o.act = act;
  const auto run = expect_matches_reference(
      *m.module, x, [&](const Params& p, const torch::Tensor& xr) { return infini_reference(p, xr, o); }, 1e-10, 1e-9);
  std::cout << "[infini reference] " << update << " " << act << " forward error " << run.error << "\n";
  // The comparison can tell the rules apart and sees the memory: the other rule and no memory both differ.
  torch::NoGradGuard guard;
  InfiniRef other = o, off = o;
  other.delta = !o.delta;
  off.memory_on = false;
  EXPECT_GT(rel_diff(run.y, infini_reference(run.params, x, other)), 1e-4);
  EXPECT_GT(rel_diff(run.y, infini_reference(run.params, x, off)), 1e-3);
}

INSTANTIATE_TEST_SUITE_P(UpdatesAndGates, InfiniVsReference,
                         ::testing::Combine(::testing::Values("linear", "delta"),
                                            ::testing::Values("orig_sigmoid", "hard_sigmoid", "clamp")));

TEST(InfiniReference, GqaGroupingsAndRopeLayouts) {
  for (int64_t groups : {1, 4}) {
    for (const std::string layout : {"half", "interleaved"}) {
      SCOPED_TRACE("kv heads " + std::to_string(groups) + " rope " + layout);
      auto m = make_module("infini", {"attention.n_kv_group=" + std::to_string(groups), "model.rope_layout=" + layout,
                                      "infini_attention.segment_length=3", "infini_attention.memory_update=delta",
                                      "infini_attention.balance_init_type=normal"});
      spread_weights(*m.module);
      m->to(torch::kFloat64);
      torch::NoGradGuard guard;
      auto x = torch::randn({1, 10, 32}, torch::kFloat64);
      AttentionContext ctx;
      auto y = m->forward(x, ctx);
      InfiniRef o;
      o.kv_heads = groups;
      o.segment = 3;
      o.delta = true;
      o.layout = layout == "half" ? RopeLayout::Half : RopeLayout::Interleaved;
      EXPECT_LE(rel_diff(y, infini_reference(params_of(*m.module), x, o)), 1e-10);
      LayerState state = m->initial_state(1, torch::TensorOptions().dtype(torch::kFloat64));
      EXPECT_EQ(state["M"].sizes(), (std::vector<int64_t>{1, groups, 8, 8}));  // one memory per kv head
    }
  }
}

TEST(InfiniPaths, FusedAndExplicitLocalAttentionAgree) {
  for (const char* norm : {"false", "true"}) {
    std::vector<std::string> o = {"attention.n_kv_group=2", "infini_attention.segment_length=5",
                                  "infini_attention.balance_init_type=normal", std::string("attention.use_qk_norm=") + norm,
                                  std::string("attention.use_qk_norm_scale=") + norm};
    auto fused = make_module("infini", o);
    o.push_back("attention.disable_flash_attention=true");
    auto explicit_path = make_module("infini", o);
    spread_weights(*fused.module);
    copy_common_parameters(*fused.module, *explicit_path.module);
    torch::NoGradGuard guard;
    auto x = torch::randn({2, 12, 32});
    LayerState s1 = fused->initial_state(2, {}), s2 = explicit_path->initial_state(2, {});
    auto a = forward_in_pieces(*fused.module, x, s1, {3, 1, 4});
    auto b = forward_in_pieces(*explicit_path.module, x, s2, {3, 1, 4});
    EXPECT_LE(max_abs_diff(a, b), 1e-5) << "qk norm " << norm;
  }
}

// Builds an infini layer and a causal layer with the same projections (the infini one's gate aside).
std::pair<ModuleUnderTest, ModuleUnderTest> infini_and_causal(std::vector<std::string> common,
                                                             std::vector<std::string> infini_only) {
  std::vector<std::string> causal_options;  // the common options causal reads (segment_length is infini's)
  for (const auto& kv : common)
    if (kv.rfind("infini_attention.", 0) != 0) causal_options.push_back(kv);
  auto causal = make_module("causal", causal_options);
  spread_weights(*causal.module);
  {
    torch::NoGradGuard guard;
    for (auto& kv : causal->named_parameters()) {
      if (kv.key().find("norm.weight") != std::string::npos) kv.value().uniform_(0.5, 1.5);
      if (kv.key() == "qk_scale") kv.value().fill_(0.4);
    }
  }
  for (auto& o : infini_only) common.push_back(o);
  auto infini = make_module("infini", common);
  copy_common_parameters(*causal.module, *infini.module);
  std::vector<std::string> causal_names, infini_names;
  for (const auto& kv : causal->named_parameters()) causal_names.push_back(kv.key());
  for (const auto& kv : infini->named_parameters()) {
    if (kv.key() != "balance") infini_names.push_back(kv.key());
  }
  EXPECT_EQ(infini_names, causal_names);  // every weight but the gate was copied
  return {std::move(infini), std::move(causal)};
}

TEST(InfiniVsCausal, MemoryOffIsCausalAttentionWithinEachSegment) {
  for (bool qk_norm : {false, true}) {
    SCOPED_TRACE(qk_norm ? "qk norm" : "plain");
    std::vector<std::string> common = {"attention.n_kv_group=2", "infini_attention.segment_length=8"};
    if (qk_norm) {
      common.push_back("attention.use_qk_norm=true");
      common.push_back("attention.use_qk_norm_scale=true");
    }
    auto [infini, causal] = infini_and_causal(
        common, {"infini_attention.turn_on_memory=false", "infini_attention.balance_init_type=normal"});
    torch::NoGradGuard guard;
    torch::manual_seed(5);
    auto x = torch::randn({2, 20, 32});
    AttentionContext plain;
    auto y = infini->forward(x, plain);
    for (int64_t s0 : {0, 8, 16}) {
      const int64_t len = std::min<int64_t>(8, 20 - s0);
      AttentionContext c;
      c.start_position = s0;  // absolute positions for causal; infini counts from the segment start
      auto ref = causal->forward(x.narrow(1, s0, len), c);
      EXPECT_LE(max_abs_diff(y.narrow(1, s0, len), ref), 1e-5) << "segment at " << s0;
    }
    // Across the segment boundary the layers differ: infini does not see the previous segment.
    AttentionContext c;
    EXPECT_GT(max_abs_diff(y.narrow(1, 8, 12), causal->forward(x, c).narrow(1, 8, 12)), 1e-3);
    // Streaming, the memory is never written.
    LayerState state = infini->initial_state(2, {});
    auto streamed = forward_in_pieces(*infini.module, x, state, {1, 7, 5});
    EXPECT_LE(max_abs_diff(streamed, y), 1e-5);
    EXPECT_EQ(state["M"].abs().max().item<double>(), 0.0);
    EXPECT_EQ(state["z"].abs().max().item<double>(), 0.0);
  }
}

TEST(InfiniVsCausal, GateClosedOnTheMemoryGivesCausalAttentionThoughMemoryIsWritten) {
  // clamp(0) = 0: A = A_dot exactly, whatever the memory holds.
  auto [infini, causal] = infini_and_causal({"infini_attention.segment_length=4"},
                                            {"infini_attention.balance_act_type=clamp",
                                             "infini_attention.balance_init_type=zeros"});
  torch::NoGradGuard guard;
  auto x = torch::randn({2, 12, 32});
  LayerState state = infini->initial_state(2, {});
  auto y = forward_in_pieces(*infini.module, x, state, {4});
  for (int64_t s0 : {0, 4, 8}) {
    AttentionContext c;
    EXPECT_LE(max_abs_diff(y.narrow(1, s0, 4), causal->forward(x.narrow(1, s0, 4), c)), 1e-5);
  }
  EXPECT_GT(state["M"].abs().max().item<double>(), 1e-3);
}

TEST(InfiniGate, InitialValuesAndEveryActivation) {
  for (const std::string init : {"zeros", "ones", "normal", "closed"}) {
    for (const std::string act : {"orig_sigmoid", "hard_sigmoid", "clamp"}) {
      SCOPED_TRACE(init + " " + act);
      auto m = make_module("infini", {"infini_attention.balance_init_type=" + init,
                                      "infini_attention.balance_act_type=" + act, "infini_attention.logging=true"});
      auto beta = m->named_parameters()["balance"];
      ASSERT_EQ(beta.sizes(), (std::vector<int64_t>{4}));  // one per query head
      if (init == "zeros") EXPECT_EQ(beta.abs().max().item<double>(), 0.0);
      if (init == "ones") EXPECT_EQ((beta - 1).abs().max().item<double>(), 0.0);
      if (init == "normal") EXPECT_GT(beta.std().item<double>(), 0.05);
      auto metrics = m->metrics();
      for (int64_t h = 0; h < 4; ++h) {
        const double b = beta[h].item<double>();
        ASSERT_TRUE(metrics.count("gate.head" + std::to_string(h)));
        EXPECT_NEAR(metrics["gate.head" + std::to_string(h)], gate_closed_form(b, act), 1e-7);
      }
      if (init == "zeros") EXPECT_NEAR(metrics["gate.head0"], act == "clamp" ? 0.0 : 0.5, 1e-12);
      // closed: shut exactly where the activation can be (the layer is its local attention), else 6.1e-6.
      if (init == "closed") EXPECT_NEAR(metrics["gate.head0"], act == "orig_sigmoid" ? 6.144e-6 : 0.0, 1e-9);
      if (init == "ones") {
        EXPECT_NEAR(metrics["gate.head0"], act == "orig_sigmoid" ? 0.7310585786 : act == "hard_sigmoid" ? 2.0 / 3 : 1.0,
                    1e-7);
      }
    }
  }
}

TEST(InfiniGate, GradientsReachEveryHeadsGate) {
  for (const std::string act : {"orig_sigmoid", "hard_sigmoid", "clamp"}) {
    for (const std::string init : {"zeros", "ones", "closed"}) {
      for (const std::string update : {"linear", "delta"}) {
        auto m = make_module("infini", {"infini_attention.segment_length=4", "infini_attention.balance_act_type=" + act,
                                        "infini_attention.balance_init_type=" + init,
                                        "infini_attention.memory_update=" + update});
        spread_weights(*m.module);
        torch::manual_seed(8);
        auto x = torch::randn({2, 8, 32});
        AttentionContext ctx;
        auto y = m->forward(x, ctx);
        (y * torch::randn_like(y)).sum().backward();
        auto g = m->named_parameters()["balance"].grad();
        ASSERT_TRUE(g.defined()) << act << " " << init;
        // A shut gate still learns: clamp and hard_sigmoid pass the gradient at their edge; the logistic's is
        // small (its slope at -12 is 6e-6) but not zero.
        const double least = init == "closed" && act == "orig_sigmoid" ? 1e-12 : 1e-6;
        for (int64_t h = 0; h < 4; ++h)
          EXPECT_GT(std::fabs(g[h].item<double>()), least) << act << " " << init << " h" << h;
      }
    }
  }
}

TEST(InfiniGate, BalanceIsItsOwnParameterGroupWithoutWeightDecay) {
  Config c = tiny_config({"attention.attention_variant=infini", "infini_attention.balance_factor_lr=0.05",
                          "training.weight_decay=0.1"});
  Transformer model(c, plugin_registry());
  auto groups = train::build_param_groups(*model, train::param_group_settings(c));
  bool found = false;
  for (const auto& g : groups) {
    for (const auto& name : g.names) {
      if (name.find("balance") != std::string::npos) EXPECT_EQ(g.name, "infini_gates") << name;
    }
    if (g.name != "infini_gates") continue;
    found = true;
    EXPECT_EQ(g.names, (std::vector<std::string>{"layers.0.attn.balance", "layers.1.attn.balance"}));
    EXPECT_DOUBLE_EQ(g.lr, 0.05);
    EXPECT_EQ(g.weight_decay, 0.0);
  }
  EXPECT_TRUE(found);
}

TEST(InfiniMetrics, LoggingOffRecordsNothing) {
  auto m = make_module("infini", {"infini_attention.segment_length=4"});
  torch::NoGradGuard guard;
  LayerState state = m->initial_state(1, {});
  AttentionContext ctx;
  ctx.state = &state;
  m->forward(torch::randn({1, 8, 32}), ctx);
  EXPECT_TRUE(m->metrics().empty());
}

TEST(InfiniMetrics, GatesMemoryNormsSegmentStatisticsAndGradients) {
  auto m = make_module("infini", {"attention.n_kv_group=2", "infini_attention.segment_length=4",
                                  "infini_attention.balance_init_type=normal", "infini_attention.logging=true",
                                  "infini_attention.log_segment_acts=true", "infini_attention.log_grad=true"});
  spread_weights(*m.module);
  LayerState state = m->initial_state(2, {});
  AttentionContext ctx;
  ctx.state = &state;
  auto y = m->forward(torch::randn({2, 8, 32}), ctx);  // two segments in one call
  auto metrics = m->metrics();
  auto beta = m->named_parameters()["balance"];
  for (int64_t h = 0; h < 4; ++h) {
    EXPECT_NEAR(metrics.at("gate.head" + std::to_string(h)), gate_closed_form(beta[h].item<double>(), "orig_sigmoid"), 1e-7);
  }
  for (int64_t g = 0; g < 2; ++g) {
    const double m_norm = state["M"].select(1, g).flatten(1).norm(2, {1}).mean().item<double>();
    const double z_norm = state["z"].select(1, g).norm(2, {1}).mean().item<double>();
    EXPECT_NEAR(metrics.at("memory_norm.kv" + std::to_string(g)), m_norm, 1e-4 * m_norm);
    EXPECT_NEAR(metrics.at("z_norm.kv" + std::to_string(g)), z_norm, 1e-4 * z_norm);
    EXPECT_GT(m_norm, 0.0);
  }
  EXPECT_EQ(metrics.at("segment0.mem_rms"), 0.0);  // nothing stored before the first segment
  EXPECT_GT(metrics.at("segment1.mem_rms"), 1e-4);
  EXPECT_GT(metrics.at("segment0.local_rms"), 1e-4);
  EXPECT_GT(metrics.at("segment1.out_rms"), 1e-4);
  EXPECT_FALSE(metrics.count("segment2.out_rms"));
  EXPECT_FALSE(metrics.count("grad_norm.balance"));  // no backward yet
  (y * y).sum().backward();
  metrics = m->metrics();
  const double grad_norm = beta.grad().norm().item<double>();
  EXPECT_NEAR(metrics.at("grad_norm.balance"), grad_norm, 1e-6 * grad_norm);
  for (const char* p : {"grad_norm.q_proj", "grad_norm.k_proj", "grad_norm.v_proj"}) EXPECT_GT(metrics.at(p), 0.0) << p;
}

TEST(InfiniMetrics, SegmentStatisticsCoverEverySegmentOfTheModelsSequence) {
  // The model's segment engine calls each layer once per segment: the statistics must still cover all of them,
  // and a new sequence starts them afresh.
  const std::vector<std::string> options = {"attention.attention_variant=infini", "infini_attention.segment_length=4",
                                            "infini_attention.logging=true", "infini_attention.log_segment_acts=true",
                                            "infini_attention.balance_init_type=normal"};
  torch::manual_seed(11);
  Transformer model(tiny_config(options), plugin_registry());
  model->eval();
  torch::NoGradGuard guard;
  auto* layer = model->blocks[1]->attn.get();
  model->forward(torch::randint(0, 97, {2, 14}, torch::kLong));  // segments of 4, 4, 4 and 2 tokens
  auto metrics = layer->metrics();
  for (int j = 0; j < 4; ++j)
    for (const char* stat : {"local_rms", "mem_rms", "out_rms"})
      EXPECT_TRUE(metrics.count("segment" + std::to_string(j) + "." + stat)) << "segment " << j << " " << stat;
  EXPECT_FALSE(metrics.count("segment4.out_rms"));
  EXPECT_EQ(metrics.at("segment0.mem_rms"), 0.0);  // nothing stored before the first segment
  EXPECT_GT(metrics.at("segment3.mem_rms"), 1e-4);
  model->forward(torch::randint(0, 97, {2, 5}, torch::kLong));  // a new sequence: two segments
  metrics = layer->metrics();
  EXPECT_TRUE(metrics.count("segment1.out_rms"));
  EXPECT_FALSE(metrics.count("segment2.out_rms"));
  // What the host asks the layer instead of reading infini's keys: the metrics interval, the gate group.
  EXPECT_EQ(layer->metrics_interval(), 100);  // infini_attention.logging_interval's default
  const auto groups = layer->parameter_groups();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].group, "infini_gates");
  EXPECT_EQ(groups[0].parameters, std::vector<std::string>{"balance"});
  EXPECT_DOUBLE_EQ(groups[0].lr, 1e-3);  // infini_attention.balance_factor_lr's default
}

TEST(InfiniOptions, RegisteredRecurrentWithItsKeys) {
  const VariantDesc* desc = plugin_registry().find("infini");
  ASSERT_NE(desc, nullptr);
  EXPECT_TRUE(desc->recurrent);
  std::vector<std::string> keys;
  for (const auto& o : desc->options) keys.push_back(o.key);
  for (const char* key : {"infini_attention.memory_update", "infini_attention.segment_length",
                          "infini_attention.turn_on_memory", "infini_attention.balance_act_type", "attention.n_kv_group"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << key;
  }
  Config c = tiny_config();
  EXPECT_EQ(c.get_string("infini_attention.memory_update"), "linear");
  EXPECT_THROW(c.apply_override("infini_attention.memory_update=sum"), Error);
}

}  // namespace
}  // namespace memtx::test
