// The memory layer (plugins/memory) against references written from the equations: cross-attention over the
// bank with GQA, low-rank bank and projections, chapters mixed by their gates (token and sequence routing),
// wo_init_zero making a model with memory layers compute exactly the logits of the model without them, and
// the quantised bank: |x - deq(q(x))| <= scale / 2 element by element for int8 and int4, with the gradient
// passing the straight-through estimator unchanged.
#include <cmath>

#include "memory_support.hpp"

namespace memtx::test {
namespace {

using memory::LayerUnderTest;
using memory::make_layer;
using memory::memory_config;
using memory::params64;

constexpr int64_t kD = 32, kH = 4, kHeadDim = 8;

// W x for a weight stored as "<name>.weight" or factorised as "<name>.up" x "<name>.down".
torch::Tensor project(std::map<std::string, torch::Tensor>& p, const std::string& name, const torch::Tensor& x) {
  if (p.count(name + ".weight")) return torch::matmul(x, p[name + ".weight"].t());
  return torch::matmul(torch::matmul(x, p[name + ".down"].t()), p[name + ".up"].t());
}

// Softmax attention of one query over rows [0, n) of K, V.
torch::Tensor attend_one(const torch::Tensor& q, const torch::Tensor& K, const torch::Tensor& V) {
  auto p = torch::softmax(torch::mv(K, q) / std::sqrt(static_cast<double>(q.size(0))), 0);
  return torch::mv(V.t(), p);
}

// The reference: per token and head, attention over the bank (or over each chosen chapter, mixed by gates).
// chapters: for each (b, t) the chosen chapters and gates; empty = no chapters.
struct Choice {
  std::vector<int64_t> chapters;
  std::vector<double> gates;
};
torch::Tensor reference(LayerUnderTest& m, const torch::Tensor& x, int64_t G,
                        const std::function<Choice(int64_t, int64_t)>& choose = nullptr, int64_t per_chapter = 0) {
  auto p = params64(*m.layer);
  auto M = m.bank->read().detach().to(torch::kFloat64);
  auto K = project(p, "k_proj", M), V = project(p, "v_proj", M);  // [N, G d]
  auto q = project(p, "q_proj", x.to(torch::kFloat64));          // [B, T, H d]
  const int64_t B = x.size(0), T = x.size(1), r = kH / G;
  auto heads = torch::zeros({B, T, kH * kHeadDim}, torch::kFloat64);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t h = 0; h < kH; ++h) {
        const int64_t g = h / r;
        auto qh = q[b][t].narrow(0, h * kHeadDim, kHeadDim);
        auto Kg = K.narrow(1, g * kHeadDim, kHeadDim), Vg = V.narrow(1, g * kHeadDim, kHeadDim);
        torch::Tensor o;
        if (!choose) {
          o = attend_one(qh, Kg, Vg);
        } else {
          const Choice c = choose(b, t);
          o = torch::zeros({kHeadDim}, torch::kFloat64);
          for (size_t i = 0; i < c.chapters.size(); ++i) {
            const int64_t start = c.chapters[i] * per_chapter;
            o = o + c.gates[i] * attend_one(qh, Kg.narrow(0, start, per_chapter), Vg.narrow(0, start, per_chapter));
          }
        }
        heads[b][t].narrow(0, h * kHeadDim, kHeadDim).copy_(o);
      }
  return project(p, "o_proj", heads);
}

TEST(MemoryLayer, CrossAttentionWithGqaMatchesTheReference) {
  for (int64_t G : {4, 2, 1}) {
    auto m = make_layer({"attention.n_kv_group=" + std::to_string(G), "memory.num_memory_tokens=7"});
    m->eval();
    m->to(torch::kFloat64);
    m.bank->to(torch::kFloat64);
    auto x = torch::randn({2, 5, kD}, torch::kFloat64);
    AttentionContext ctx;
    auto out = m->forward(x, ctx);
    EXPECT_EQ(out.sizes(), x.sizes());
    EXPECT_LT(max_abs_diff(out, reference(m, x, G)), 1e-10) << "G = " << G;
    EXPECT_GT(out.abs().max().item<double>(), 1e-3);
  }
}

TEST(MemoryLayer, MemoryDimAndLowRankFormsMatchTheReference) {
  const std::vector<std::vector<std::string>> forms = {
      {"memory.memory_dim=12"},
      {"memory.use_low_rank_memory=true", "memory.low_rank_mode=factorized", "memory.memory_rank=3"},
      {"memory.use_low_rank_memory=true", "memory.low_rank_mode=reduced_dim", "memory.memory_rank=5"},
      {"memory.use_low_rank_projections=true", "memory.projection_rank=4", "memory.memory_dim=20"},
  };
  for (const auto& form : forms) {
    auto m = make_layer(form);
    m->eval();
    m->to(torch::kFloat64);
    m.bank->to(torch::kFloat64);
    auto names = m.bank->named_parameters();
    const std::string what = form[0] + " " + (form.size() > 1 ? form[1] : "");
    if (form.size() > 1 && form[1] == "memory.low_rank_mode=factorized") {
      // M = A B^T with A [N, r], B [D_m, r].
      ASSERT_EQ(names["factor_a"].sizes(), (std::vector<int64_t>{16, 3}));
      ASSERT_EQ(names["factor_b"].sizes(), (std::vector<int64_t>{32, 3}));
      EXPECT_LT(max_abs_diff(m.bank->read(), torch::matmul(names["factor_a"], names["factor_b"].t())), 1e-12);
      EXPECT_EQ(m.bank->width(), 32);
    } else if (form.size() > 1 && form[1] == "memory.low_rank_mode=reduced_dim") {
      EXPECT_EQ(names["memory"].sizes(), (std::vector<int64_t>{16, 5}));
      EXPECT_EQ(m.layer->named_parameters()["k_proj.weight"].size(1), 5);
    } else if (form[0] == "memory.memory_dim=12") {
      EXPECT_EQ(m.bank->width(), 12);
    } else {
      auto p = m.layer->named_parameters();
      EXPECT_EQ(p.find("q_proj.weight"), nullptr);
      EXPECT_EQ(p["q_proj.down"].sizes(), (std::vector<int64_t>{4, 32}));
      EXPECT_EQ(p["k_proj.down"].sizes(), (std::vector<int64_t>{4, 20}));
      EXPECT_EQ(p["o_proj.up"].sizes(), (std::vector<int64_t>{32, 4}));
    }
    auto x = torch::randn({1, 4, kD}, torch::kFloat64);
    AttentionContext ctx;
    EXPECT_LT(max_abs_diff(m->forward(x, ctx), reference(m, x, kH)), 1e-10) << what;
  }
}

TEST(MemoryLayer, FactorizedBankStartsWithTheFullBanksSpread) {
  auto m = make_layer({"memory.use_low_rank_memory=true", "memory.memory_rank=16", "memory.num_memory_tokens=512",
                       "memory.memory_init_std=0.05"});
  const double std = m.bank->read().std().item<double>();
  EXPECT_NEAR(std, 0.05, 0.005);
  auto full = make_layer({"memory.num_memory_tokens=512", "memory.memory_init_std=0.05"});
  EXPECT_NEAR(full.bank->read().std().item<double>(), 0.05, 0.002);
}

// Chapters mixed by their gates, for per-token routing (every chapter scored, the unchosen weighted by 0) and
// per-sequence routing (the chosen chapters gathered): the router's choice and gates are recomputed here.
TEST(MemoryLayer, ChaptersMixTheChosenChaptersByTheirGates) {
  for (const std::string strategy : {"token", "sequence"}) {
    auto m = make_layer({"memory.use_chapters=true", "memory.num_chapters=4", "memory.top_k_chapters=2",
                         "memory.num_memory_tokens=14", "attention.n_kv_group=2",
                         "memory.routing_strategy_inference=" + strategy});  // 4 chapters of 3, 2 vectors unused
    m->eval();
    m->to(torch::kFloat64);
    m.bank->to(torch::kFloat64);
    auto x = torch::randn({2, 5, kD}, torch::kFloat64);
    auto W = m.layer->named_parameters()["router.weight"].detach();
    auto choose = [&](int64_t b, int64_t t) {
      auto r = strategy == "token" ? x[b][t] : x[b].mean(0);
      auto p = torch::softmax(torch::mv(W, r), 0);
      auto [top, idx] = p.topk(2);
      const double sum = top.sum().item<double>();
      return Choice{{idx[0].item<int64_t>(), idx[1].item<int64_t>()},
                    {top[0].item<double>() / sum, top[1].item<double>() / sum}};
    };
    AttentionContext ctx;
    auto out = m->forward(x, ctx);
    EXPECT_LT(max_abs_diff(out, reference(m, x, 2, choose, 3)), 1e-10) << strategy;
  }
}

TEST(MemoryLayer, StandAloneLayerWithoutBankIsAClearError) {
  auto m = make_layer();
  m->bind_bank(nullptr);
  AttentionContext ctx;
  try {
    m->forward(torch::randn({1, 2, kD}), ctx);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no memory bank is bound"), std::string::npos) << e.what();
  }
  auto other = make_layer({"memory.num_memory_tokens=9"});
  EXPECT_THROW(m->bind_bank(other.bank), Error);
}

// wo_init_zero: the memory sublayers start at exactly 0, so a model with them computes exactly the logits of
// the same model without them (the same seed draws the same weights for everything else).
TEST(MemoryLayer, ZeroInitialisedOutputMakesMemoryLayersTheIdentity) {
  const std::vector<std::vector<std::string>> option_sets = {
      {},
      {"memory.memory_block_variant=B"},
      {"memory.memory_block_variant=B", "model.mlp_bias=true", "model.mlp_type=gelu"},
      {"memory.use_chapters=true", "memory.num_chapters=4", "memory.top_k_chapters=2",
       "memory.routing_strategy_inference=token"},
      {"memory.use_chapters=true", "memory.num_chapters=4", "memory.top_k_chapters=3"},
      {"memory.use_low_rank_memory=true", "memory.use_low_rank_projections=true", "memory.projection_rank=4",
       "memory.memory_rank=4"},
      {"memory.quantize_memory=true", "memory.memory_quant_bits=4", "attention.n_kv_group=2"},
      {"model.num_layers=4", "memory.memory_layer_placement=every_n", "memory.memory_layer_n=2",
       "memory.memory_sharing=per_layer"},
  };
  for (const auto& options : option_sets) {
    std::string what;
    for (const auto& o : options) what += o + " ";
    auto with = options;
    with.push_back("memory.wo_init_zero=true");
    auto without = options;
    without.push_back("memory.vanilla_mode=true");
    Transformer a(memory_config(with), plugin_registry());
    Transformer b(drop_unread_settings(memory_config(without)), plugin_registry());
    ASSERT_FALSE(a->banks.empty()) << what;
    ASSERT_TRUE(b->banks.empty()) << what;
    a->eval();
    b->eval();
    torch::NoGradGuard guard;
    auto tokens = torch::randint(0, 97, {2, 9}, torch::kLong);
    EXPECT_TRUE(torch::equal(a->forward(tokens), b->forward(tokens))) << what;

    auto off = options;
    off.push_back("memory.wo_init_zero=false");
    Transformer c(memory_config(off), plugin_registry());
    c->eval();
    EXPECT_GT(max_abs_diff(c->forward(tokens), b->forward(tokens)), 1e-6) << what << "(wo_init_zero false)";
  }
}

// Row-wise quantisation: deq = round(x / s) s with s = max |row| / Q, Q = 127 (int8) or 7 (int4).
TEST(MemoryLayer, QuantisedBankStaysWithinHalfAScaleOfTheMasterValues) {
  for (int64_t bits : {8, 4}) {
    for (const std::string form : {"full", "factorized"}) {
      std::vector<std::string> o = {"memory.quantize_memory=true", "memory.memory_quant_bits=" + std::to_string(bits),
                                    "memory.memory_init_std=1.0", "memory.num_memory_tokens=64"};
      if (form == "factorized") o.insert(o.end(), {"memory.use_low_rank_memory=true", "memory.memory_rank=6"});
      auto m = make_layer(o);
      const double q_max = bits == 8 ? 127.0 : 7.0;
      std::vector<torch::Tensor> stored;
      for (auto& kv : m.bank->named_parameters()) stored.push_back(kv.value());
      {
        torch::NoGradGuard guard;
        stored[0][3].zero_();  // a zero row: scale 0, dequantised to zeros
      }
      torch::Tensor deq_rows;
      if (form == "full") {
        deq_rows = m.bank->read().detach();
      } else {
        // read() = q(A) q(B)^T; check q(A) through B = identity-like probing is not possible, so compare the
        // product with the product of independently quantised factors.
        auto quant = [&](const torch::Tensor& x) {
          auto s = x.abs().amax(1, true) / q_max;
          auto safe = torch::where(s > 0, s, torch::ones_like(s));
          return torch::round(x / safe) * s;
        };
        EXPECT_LT(max_abs_diff(m.bank->read(), torch::matmul(quant(stored[0]), quant(stored[1]).t())), 1e-5);
        deq_rows = quant(stored[0]);
      }
      auto x = stored[0].detach();
      auto scale = x.abs().amax(1, true) / q_max;  // [rows, 1]
      auto err = (x - deq_rows).abs();
      EXPECT_TRUE((err <= scale / 2 + 1e-7 * scale + 1e-12).all().item<bool>()) << bits << " " << form;
      EXPECT_GT(err.max().item<double>(), 0.0) << bits << " bits must round something";
      auto safe = torch::where(scale > 0, scale, torch::ones_like(scale));
      auto codes = deq_rows / safe;
      EXPECT_LT(max_abs_diff(codes, torch::round(codes)), 1e-4) << "codes are integers";
      EXPECT_LE(codes.abs().max().item<double>(), q_max + 1e-4);
      EXPECT_EQ(deq_rows[3].abs().max().item<double>(), 0.0);
      if (bits == 4 && form == "full") {
        // int4 really has at most 15 levels per row.
        EXPECT_LE(std::get<0>(torch::_unique(torch::round(codes[0]))).numel(), 15);
      }
    }
  }
}

TEST(MemoryLayer, StraightThroughEstimatorPassesTheGradientUnchanged) {
  for (int64_t bits : {8, 4}) {
    auto m = make_layer({"memory.quantize_memory=true", "memory.memory_quant_bits=" + std::to_string(bits),
                         "memory.memory_init_std=1.0"});
    auto memory = m.bank->named_parameters()["memory"];
    auto g = torch::randn(memory.sizes());
    (m.bank->read() * g).sum().backward();
    ASSERT_TRUE(memory.grad().defined());
    EXPECT_TRUE(torch::equal(memory.grad(), g)) << bits;
    EXPECT_GT(max_abs_diff(m.bank->read(), memory), 1e-4) << "the forward value is the quantised one";
  }
}

}  // namespace
}  // namespace memtx::test
