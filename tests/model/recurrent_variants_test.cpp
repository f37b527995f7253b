// The checks every recurrent layer must pass, one parameterised test per check over the variants that have it
// (linear; infini with both update rules; ssm with both scans), each with the options and tolerances of its
// variant: causality; feeding a sequence in pieces through the carried state equals one call (the layer, and a
// whole model); batch items keep their own state; the initial state's shapes, dtypes and zeros; a state of
// constant size however long the stream; a bfloat16 layer keeps its state in float32; bad state or input
// rejected by name.
#include <optional>
#include <sstream>

#include "common/error_of.hpp"
#include "recurrent_support.hpp"
#include "ssm_support.hpp"

namespace memtx::test {
namespace {

using namespace recurrent;
using Shape = std::vector<int64_t>;

// A layer under test: the name its tests carry, its variant and its options.
struct Variant {
  std::string name, variant;
  std::vector<std::string> overrides;
};

// The variant's module; with spread, its weights moved off the initialisation so that every term matters.
ModuleUnderTest build(const Variant& v, bool spread = true) {
  auto m = make_module(v.variant, v.overrides);
  if (spread && v.variant == "ssm") spread_ssm_parameters(*m.module);
  else if (spread) spread_weights(*m.module);
  return m;
}

Variant infini_variant(const std::string& update, std::vector<std::string> overrides) {
  overrides.push_back("infini_attention.memory_update=" + update);
  return {"infini_" + update, "infini", std::move(overrides)};
}

Variant ssm_variant(const std::string& scan, std::vector<std::string> overrides = {}) {
  overrides.insert(overrides.begin(), "attention.ssm_scan=" + scan);
  return {"ssm_" + scan, "ssm", std::move(overrides)};
}

// The option sets most cases use: two kv heads (GQA), segments or chunks of 4.
const std::vector<std::string> kInfiniSegment4 = {"infini_attention.segment_length=4",
                                                  "infini_attention.balance_init_type=normal"};
const std::vector<std::string> kInfiniGqa = {"attention.n_kv_group=2", "infini_attention.segment_length=4",
                                             "infini_attention.balance_init_type=normal"};
const Variant kLinearGqa{"linear", "linear", {"attention.n_kv_group=2", "attention.linear_chunk_size=4"}};

// Names the instantiations after the variants, and prints a case as its variant's name.
template <typename Case>
std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return info.param.v.name;
}
template <typename Case>
auto operator<<(std::ostream& os, const Case& c) -> decltype(c.v.name, os) {
  return os << c.v.name;
}

std::string joined(const std::vector<int64_t>& lengths) {
  std::ostringstream s;
  for (size_t i = 0; i < lengths.size(); ++i) s << (i ? "+" : "") << lengths[i];
  return s.str();
}

// A bound on max |a - b|, or on rel_diff(a, b) when relative.
struct Tol {
  double value;
  bool relative = false;
};

void expect_close(const torch::Tensor& a, const torch::Tensor& b, Tol tol, const std::string& what) {
  EXPECT_LE(tol.relative ? rel_diff(a, b) : max_abs_diff(a, b), tol.value) << what;
}

// --- Causality: perturbing the inputs from t on leaves the outputs before t unchanged and moves those after.

struct CausalityCase {
  Variant v;
  std::optional<uint64_t> seed;  // for the inputs (none: they follow the weights' draw)
  int64_t length;
  std::vector<int64_t> positions;
  int64_t changed_span;  // outputs from t on that must move: this many (0: all)
  double min_change;
};

class RecurrentCausality : public ::testing::TestWithParam<CausalityCase> {};

TEST_P(RecurrentCausality, LaterInputsDoNotChangeEarlierOutputs) {
  const auto& c = GetParam();
  auto m = build(c.v);
  torch::NoGradGuard guard;
  if (c.seed) torch::manual_seed(*c.seed);
  const int64_t T = c.length;
  auto x = torch::randn({2, T, 32});
  for (int64_t t : c.positions) {
    auto y = x.clone();
    y.narrow(1, t, T - t).add_(torch::randn({2, T - t, 32}));
    AttentionContext c1, c2;
    auto a = m->forward(x, c1), b = m->forward(y, c2);
    if (t > 0) EXPECT_LE(max_abs_diff(a.narrow(1, 0, t), b.narrow(1, 0, t)), 1e-6) << "t=" << t;
    const int64_t span = c.changed_span > 0 ? c.changed_span : T - t;
    EXPECT_GT(max_abs_diff(a.narrow(1, t, span), b.narrow(1, t, span)), c.min_change) << "t=" << t;
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, RecurrentCausality,
                         ::testing::Values(
                             CausalityCase{{"linear", "linear", {"attention.linear_chunk_size=4"}},
                                           std::nullopt, 14, {0, 3, 4, 9, 13}, 1, 1e-4},
                             CausalityCase{infini_variant("linear", kInfiniSegment4), std::nullopt, 14,
                                           {0, 3, 4, 9, 13}, 1, 1e-4},
                             CausalityCase{infini_variant("delta", kInfiniSegment4), std::nullopt, 14,
                                           {0, 3, 4, 9, 13}, 1, 1e-4},
                             CausalityCase{ssm_variant("sequential"), 3, 40, {0, 9, 39}, 0, 1e-3},
                             CausalityCase{ssm_variant("chunked"), 3, 40, {0, 9, 39}, 0, 1e-3}),
                         case_name<CausalityCase>);

// --- The layer fed in pieces of any size through its carried state equals one call.

struct PiecesCase {
  Variant v;
  std::optional<uint64_t> seed;
  int64_t length;
  bool use_cache;
  std::vector<int64_t> reference_pieces;  // the state compared against: {length} is one call with a state
  Tol reference_vs_plain;                  // that call against a plain (stateless) forward
  std::vector<std::vector<int64_t>> pieces;
  std::vector<std::pair<std::string, Tol>> state_tols;  // each piecewise state against the reference state
  std::vector<std::pair<std::string, Shape>> final_shapes;
};

class RecurrentStreaming : public ::testing::TestWithParam<PiecesCase> {};

TEST_P(RecurrentStreaming, PiecesOfAnySizeEqualOneCall) {
  const auto& c = GetParam();
  auto m = build(c.v);
  torch::NoGradGuard guard;
  if (c.seed) torch::manual_seed(*c.seed);
  auto x = torch::randn({2, c.length, 32});
  AttentionContext plain;
  auto whole = m->forward(x, plain);
  LayerState reference = m->initial_state(2, {});
  auto by_reference = forward_in_pieces(*m.module, x, reference, c.reference_pieces, c.use_cache);
  expect_close(by_reference, whole, c.reference_vs_plain, "pieces " + joined(c.reference_pieces) + " vs plain");
  for (const auto& pieces : c.pieces) {
    SCOPED_TRACE("pieces " + joined(pieces));
    LayerState state = m->initial_state(2, {});
    auto out = forward_in_pieces(*m.module, x, state, pieces, c.use_cache);
    const double err = rel_diff(out, whole);
    std::cout << "[recurrent streaming] " << c.v.name << " pieces " << joined(pieces) << " vs whole: " << err << "\n";
    EXPECT_LE(err, 1e-5);
    EXPECT_LE(rel_diff(out, by_reference), 1e-5);
    for (const auto& [key, tol] : c.state_tols) expect_close(state[key], reference[key], tol, key);
    for (const auto& [key, shape] : c.final_shapes) EXPECT_EQ(state[key].sizes(), shape) << key;
  }
}

PiecesCase ssm_pieces(const std::string& scan) {
  return {ssm_variant(scan, {"attention.ssm_conv_kernel_size=4"}), 1, 16, false, {16}, {1e-6}, {{1, 3, 5, 7}},
          {{"h", {1e-5, true}}, {"conv", {1e-6}}}, {}};
}

PiecesCase infini_pieces(const std::string& update) {
  // 14 = 3 * 4 + 2: two tokens of the open segment are cached.
  return {infini_variant(update, kInfiniGqa), 4, 14, true, {4}, {1e-5, true}, {{1}, {3, 5, 1, 5}, {2, 7}, {14}},
          {{"M", {1e-5, true}}, {"z", {1e-5, true}}, {"k", {1e-6}}}, {{"k", {2, 2, 2, 8}}}};
}

INSTANTIATE_TEST_SUITE_P(
    Variants, RecurrentStreaming,
    ::testing::Values(PiecesCase{kLinearGqa, std::nullopt, 16, false, {16}, {1e-6}, {{1}, {1, 3, 5, 7}, {6, 10}},
                                 {{"S", {1e-5, true}}, {"z", {1e-5, true}}}, {}},
                      ssm_pieces("sequential"), ssm_pieces("chunked"), infini_pieces("linear"), infini_pieces("delta")),
    case_name<PiecesCase>);

// --- A whole model fed in pieces through its state equals one call.

struct ModelCase {
  Variant v;  // the model's overrides
  int64_t segment_length;
  std::optional<uint64_t> seed;
  int64_t length;
  std::vector<int64_t> pieces;
  bool use_cache;
  double tol;
};

class RecurrentModelStreaming : public ::testing::TestWithParam<ModelCase> {};

TEST_P(RecurrentModelStreaming, WholeModelInPiecesEqualsOneCall) {
  const auto& c = GetParam();
  auto overrides = c.v.overrides;
  overrides.insert(overrides.begin(), "attention.attention_variant=" + c.v.variant);
  Transformer model(tiny_config(overrides), plugin_registry());
  EXPECT_EQ(model->segment_length(), c.segment_length);  // infini: the model's segment engine runs at its length
  for (auto& block : model->blocks) {
    if (c.v.variant == "ssm") spread_ssm_parameters(*block->attn);
    else spread_weights(*block->attn);
  }
  torch::NoGradGuard guard;
  if (c.seed) torch::manual_seed(*c.seed);
  auto tokens = torch::randint(0, 97, {2, c.length}, torch::kLong);
  auto whole = model->forward(tokens);
  ModelState state = model->initial_state(2);
  std::vector<torch::Tensor> outs;
  int64_t start = 0;
  for (int64_t len : c.pieces) {
    outs.push_back(model->forward(tokens.narrow(1, start, len), &state, c.use_cache));
    start += len;
  }
  ASSERT_EQ(start, c.length);
  EXPECT_EQ(state.position, c.length);
  const double err = rel_diff(torch::cat(outs, 1), whole);
  std::cout << "[recurrent streaming] whole model " << c.v.name << " pieces " << joined(c.pieces) << ": " << err
            << "\n";
  EXPECT_LE(err, c.tol);
}

ModelCase infini_model(const std::string& update) {  // a prompt of 6, then token by token
  return {infini_variant(update, kInfiniGqa), 4, 6, 14, {6, 1, 1, 1, 1, 1, 1, 1, 1}, true, 1e-4};
}

INSTANTIATE_TEST_SUITE_P(
    Variants, RecurrentModelStreaming,
    ::testing::Values(ModelCase{{"linear", "linear", {"attention.n_kv_group=2", "attention.linear_chunk_size=3"}},
                                0, std::nullopt, 16, {1, 3, 5, 7}, true, 1e-4},
                      ModelCase{{"ssm", "ssm", {"model.use_mlp=false"}}, 0, 2, 16, {1, 3, 5, 7}, false, 1e-5},
                      infini_model("linear"), infini_model("delta")),
    case_name<ModelCase>);

// --- Batch items keep their own state: a batch equals its items fed alone; changing one changes no other.

struct BatchCase {
  Variant v;
  std::vector<int64_t> pieces;
  std::string memory;  // the state tensor that must move when its item's inputs change
};

class RecurrentBatch : public ::testing::TestWithParam<BatchCase> {};

TEST_P(RecurrentBatch, BatchItemsDoNotShareState) {
  const auto& c = GetParam();
  auto m = build(c.v);
  torch::NoGradGuard guard;
  auto x = torch::randn({3, 12, 32});
  LayerState batch_state = m->initial_state(3, {});
  auto batched = forward_in_pieces(*m.module, x, batch_state, c.pieces);
  for (int64_t b = 0; b < 3; ++b) {
    LayerState single = m->initial_state(1, {});
    auto alone = forward_in_pieces(*m.module, x.narrow(0, b, 1), single, c.pieces);
    EXPECT_LE(max_abs_diff(batched.narrow(0, b, 1), alone), 1e-5) << "item " << b;
    for (const auto& [key, t] : single) {
      if (t.numel() > 0) EXPECT_LE(rel_diff(batch_state[key].narrow(0, b, 1), t), 1e-5) << key << " item " << b;
    }
  }
  // Changing item 1 changes nothing of items 0 and 2.
  auto y = x.clone();
  y[1].add_(torch::randn({12, 32}));
  LayerState other = m->initial_state(3, {});
  auto changed = forward_in_pieces(*m.module, y, other, c.pieces);
  for (int64_t b : {0, 2}) EXPECT_LE(max_abs_diff(changed[b], batched[b]), 1e-6);
  EXPECT_GT(max_abs_diff(changed[1].narrow(0, 8, 4), batched[1].narrow(0, 8, 4)), 1e-4);
  EXPECT_GT(max_abs_diff(other[c.memory][1], batch_state[c.memory][1]), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, RecurrentBatch,
    ::testing::Values(BatchCase{infini_variant("delta", kInfiniGqa), {4}, "M"}, BatchCase{kLinearGqa, {4}, "S"},
                      BatchCase{ssm_variant("chunked"), {4}, "h"}),
    case_name<BatchCase>);

// --- The initial state: registered recurrent, every tensor's shape, dtype (float64 and bfloat16 models), zeros.

struct StateTensor {
  std::string key;
  Shape shape;  // for a batch of 3
  torch::ScalarType under_float64, under_bfloat16;
};

struct InitialCase {
  Variant v;
  std::vector<StateTensor> tensors;
};

class RecurrentInitialState : public ::testing::TestWithParam<InitialCase> {};

TEST_P(RecurrentInitialState, ShapesDtypesAndZeros) {
  const auto& c = GetParam();
  auto m = build(c.v, /*spread=*/false);
  EXPECT_TRUE(m->is_recurrent());
  const VariantDesc* desc = plugin_registry().find(c.v.variant);
  ASSERT_NE(desc, nullptr);
  EXPECT_TRUE(desc->recurrent);
  auto s64 = m->initial_state(3, torch::TensorOptions().dtype(torch::kFloat64));
  auto s16 = m->initial_state(3, torch::TensorOptions().dtype(torch::kBFloat16));
  ASSERT_EQ(s64.size(), c.tensors.size());
  for (const auto& t : c.tensors) {
    ASSERT_TRUE(s64.count(t.key)) << t.key;
    EXPECT_EQ(s64[t.key].sizes(), t.shape) << t.key;
    EXPECT_EQ(s64[t.key].scalar_type(), t.under_float64) << t.key;
    EXPECT_EQ(s16[t.key].scalar_type(), t.under_bfloat16) << t.key;
    EXPECT_EQ(s64[t.key].abs().sum().item<double>(), 0.0) << t.key;
  }
}

constexpr auto kF64 = torch::kFloat64, kF32 = torch::kFloat32, kBF16 = torch::kBFloat16;

INSTANTIATE_TEST_SUITE_P(
    Variants, RecurrentInitialState,
    ::testing::Values(
        InitialCase{{"linear", "linear", {"attention.n_kv_group=2"}},
                    {{"S", {3, 2, 8, 8}, kF64, kF32}, {"z", {3, 2, 8}, kF64, kF32}}},
        // One memory per kv head (in float32 under bfloat16), and the open segment's keys and values.
        InitialCase{{"infini", "infini", {"attention.n_kv_group=2"}},
                    {{"M", {3, 2, 8, 8}, kF64, kF32}, {"z", {3, 2, 8}, kF64, kF32},
                     {"k", {3, 2, 0, 8}, kF64, kBF16}, {"v", {3, 2, 0, 8}, kF64, kBF16}}},
        // conv in the model's dtype; h in the scan's, whatever the model's.
        InitialCase{{"ssm", "ssm", {"attention.ssm_mamba_expand=3", "attention.ssm_d_state=5",
                                    "attention.ssm_conv_kernel_size=4"}},
                    {{"conv", {3, 96, 3}, kF64, kBF16}, {"h", {3, 96, 5}, kF32, kF32}}}),
    case_name<InitialCase>);

// --- The state's size is constant however long the stream (an open segment's cache aside), and its tensors
// own just their elements (no view into a growing buffer).

struct ConstantSizeCase {
  Variant v;
  int64_t batch;
  int steps;
  std::vector<int64_t> lengths;  // of the pieces, cycled
  bool use_cache;
  int64_t open_segment;  // > 0: k and v cache the tokens of the open segment of this length
  std::vector<std::pair<std::string, Shape>> fixed;
  int64_t fixed_numel;  // of the fixed tensors together
};

class RecurrentStateSize : public ::testing::TestWithParam<ConstantSizeCase> {};

TEST_P(RecurrentStateSize, IsConstantHoweverLongTheStream) {
  const auto& c = GetParam();
  auto m = build(c.v, /*spread=*/false);
  torch::NoGradGuard guard;
  LayerState state = m->initial_state(c.batch, {});
  const size_t keys = c.fixed.size() + (c.open_segment > 0 ? 2 : 0);
  int64_t consumed = 0;
  for (int step = 0; step <= c.steps; ++step) {
    if (step > 0) {
      const int64_t len = c.lengths[(step - 1) % c.lengths.size()];
      AttentionContext ctx;
      ctx.state = &state;
      ctx.use_cache = c.use_cache;
      m->forward(torch::randn({c.batch, len, 32}), ctx);
      consumed += len;
    }
    ASSERT_EQ(state.size(), keys);
    int64_t numel = 0;
    for (const auto& [key, shape] : c.fixed) {
      ASSERT_EQ(state[key].sizes(), shape) << key;
      numel += state[key].numel();
    }
    ASSERT_EQ(numel, c.fixed_numel);
    if (c.open_segment > 0) {
      ASSERT_EQ(state["k"].size(2), consumed % c.open_segment);  // only the open segment's tokens are cached
      ASSERT_EQ(state["v"].size(2), consumed % c.open_segment);
    }
    for (const auto& [key, t] : state) ASSERT_EQ(t.storage().nbytes(), t.numel() * t.element_size()) << key;
  }
  EXPECT_GT(consumed, 100);
  for (const auto& [key, t] : state) EXPECT_TRUE(torch::isfinite(t).all().item<bool>()) << key;
}

INSTANTIATE_TEST_SUITE_P(
    Variants, RecurrentStateSize,
    ::testing::Values(
        ConstantSizeCase{{"linear", "linear", {"attention.n_kv_group=2"}}, 1, 50, {1, 2, 3, 4, 5, 6, 7, 8, 9}, false, 0,
                         {{"S", {1, 2, 8, 8}}, {"z", {1, 2, 8}}}, 1 * 2 * 8 * (8 + 1)},
        // B G d_k (d_v + 1) numbers per stream, however many tokens went by.
        ConstantSizeCase{{"infini", "infini", {"attention.n_kv_group=2", "infini_attention.segment_length=5",
                                               "infini_attention.memory_update=delta"}},
                         2, 40, {1, 2, 3, 5, 7, 4, 3}, true, 5, {{"M", {2, 2, 8, 8}}, {"z", {2, 2, 8}}},
                         2 * 2 * 8 * (8 + 1)},
        ConstantSizeCase{{"ssm", "ssm", {}}, 1, 200, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, false, 0,
                         {{"conv", {1, 64, 2}}, {"h", {1, 64, 16}}}, 64 * (2 + 16)}),
    case_name<ConstantSizeCase>);

// --- A bfloat16 layer keeps its recurrent state in float32 and stays close to the float32 layer.

struct Bfloat16Case {
  Variant v;
  std::vector<int64_t> pieces;
  std::vector<std::string> float32_keys, bfloat16_keys, compared_keys;
};

class RecurrentBfloat16 : public ::testing::TestWithParam<Bfloat16Case> {};

TEST_P(RecurrentBfloat16, KeepsTheStateInFloat32) {
  const auto& c = GetParam();
  auto m = build(c.v);
  torch::NoGradGuard guard;
  auto x = torch::randn({2, 10, 32});
  LayerState s32 = m->initial_state(2, {});
  auto y32 = forward_in_pieces(*m.module, x, s32, c.pieces);
  m->to(torch::kBFloat16);
  LayerState s16 = m->initial_state(2, torch::TensorOptions().dtype(torch::kBFloat16));
  auto y16 = forward_in_pieces(*m.module, x.to(torch::kBFloat16), s16, c.pieces);
  EXPECT_EQ(y16.scalar_type(), torch::kBFloat16);
  for (const auto& key : c.float32_keys) EXPECT_EQ(s16[key].scalar_type(), torch::kFloat32) << key;
  for (const auto& key : c.bfloat16_keys) EXPECT_EQ(s16[key].scalar_type(), torch::kBFloat16) << key;
  EXPECT_LE(rel_diff(y16.to(torch::kFloat32), y32), 5e-2);
  for (const auto& key : c.compared_keys) EXPECT_LE(rel_diff(s16[key], s32[key]), 5e-2) << key;
}

INSTANTIATE_TEST_SUITE_P(
    Variants, RecurrentBfloat16,
    ::testing::Values(Bfloat16Case{kLinearGqa, {3}, {"S"}, {}, {}},
                      Bfloat16Case{infini_variant("delta", kInfiniGqa), {4}, {"M"}, {"k"}, {"M"}}),
    case_name<Bfloat16Case>);

// --- A state of the wrong shape, or an input of the wrong width, is an InvalidArgument error naming it.

struct BadState {
  std::vector<std::pair<std::string, Shape>> replaced;  // by zeros of these shapes
  std::string needle;
};

struct ErrorsCase {
  Variant v;
  std::vector<BadState> bad_states;
};

void expect_invalid(AttentionModuleImpl& m, LayerState* state, const torch::Tensor& x, const std::string& needle) {
  const std::string message = memtx_test::error_of(
      [&] {
        AttentionContext ctx;
        ctx.state = state;
        m.forward(x, ctx);
      },
      StatusCode::InvalidArgument);
  EXPECT_NE(message.find(needle), std::string::npos) << needle << " not in: " << message;
}

class RecurrentErrors : public ::testing::TestWithParam<ErrorsCase> {};

TEST_P(RecurrentErrors, BadStateOrInputIsAnErrorNamingIt) {
  const auto& c = GetParam();
  auto m = build(c.v, /*spread=*/false);
  torch::NoGradGuard guard;
  auto x = torch::randn({2, 3, 32});
  for (const auto& bad : c.bad_states) {
    LayerState state = m->initial_state(2, {});
    for (const auto& [key, shape] : bad.replaced) state[key] = torch::zeros(shape);
    expect_invalid(*m.module, &state, x, bad.needle);
  }
  LayerState fresh = m->initial_state(2, {});
  expect_invalid(*m.module, &fresh, torch::randn({2, 3, 31}), "32");
  expect_invalid(*m.module, nullptr, torch::randn({2, 3, 31}), "32");
}

INSTANTIATE_TEST_SUITE_P(
    Variants, RecurrentErrors,
    ::testing::Values(ErrorsCase{{"linear", "linear", {}}, {{{{"S", {2, 4, 8, 7}}}, "'S'"}}},
                      ErrorsCase{{"infini", "infini", {"infini_attention.segment_length=4"}},
                                 {{{{"M", {2, 3, 8, 8}}}, "'M'"},
                                  {{{"z", {1, 4, 8}}}, "'z'"},
                                  {{{"k", {2, 4, 4, 8}}, {"v", {2, 4, 4, 8}}}, "segment_length"}}},
                      ErrorsCase{{"ssm", "ssm", {}}, {{{{"h", {2, 64, 3}}}, "'h'"}}}),
    case_name<ErrorsCase>);

}  // namespace
}  // namespace memtx::test
