// ProcessGroup in this process: a world of one (no socket; every collective returns its input), input checks,
// and a real gloo backend for a world of one (backend_for_one) over the same code paths as a larger run.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error_of.hpp"
#include "dist/digest.hpp"
#include "dist/process_group.hpp"
#include "dist_support.hpp"
#include "memtx/error.hpp"

namespace memtx::test {
namespace {

using dist::ProcessGroup;

using memtx_test::code_of;

void check_identity(ProcessGroup& g) {
  torch::Tensor a = torch::arange(5, torch::kFloat), b = torch::full({2, 2}, 3L);
  g.all_reduce_sum({a, b});
  EXPECT_TRUE(torch::equal(a, torch::arange(5, torch::kFloat)));
  EXPECT_TRUE(torch::equal(b, torch::full({2, 2}, 3L)));
  g.all_reduce_mean({a});
  EXPECT_TRUE(torch::equal(a, torch::arange(5, torch::kFloat)));
  g.broadcast({a, b}, 0);
  EXPECT_TRUE(torch::equal(a, torch::arange(5, torch::kFloat)));
  EXPECT_EQ(g.all_gather_int64({4, -5}), (std::vector<std::vector<int64_t>>{{4, -5}}));
  EXPECT_EQ(g.all_gather_int64({}), (std::vector<std::vector<int64_t>>{{}}));
  EXPECT_EQ(g.all_gather_bytes(std::string("a\0b", 3)), (std::vector<std::string>{std::string("a\0b", 3)}));
  torch::Tensor part = torch::empty({3});
  g.reduce_scatter_sum(torch::arange(3, torch::kFloat), part);
  EXPECT_TRUE(torch::equal(part, torch::arange(3, torch::kFloat)));
  torch::Tensor whole = torch::empty({2}, torch::kDouble);
  g.all_gather_flat(torch::full({2}, 7.0, torch::kDouble), whole);
  EXPECT_TRUE(torch::equal(whole, torch::full({2}, 7.0, torch::kDouble)));
  g.check_config_digest(dist::config_digest("x"));
  g.barrier();
}

void check_refusals(ProcessGroup& g) {
  EXPECT_EQ(code_of([&] { g.all_reduce_sum({torch::zeros({2}), torch::Tensor()}); }), StatusCode::InvalidArgument);
  EXPECT_EQ(code_of([&] { g.all_reduce_sum({torch::zeros({2}, torch::kBool)}); }), StatusCode::InvalidArgument);
  EXPECT_EQ(code_of([&] { g.all_reduce_sum({torch::zeros({2}, torch::kComplexFloat)}); }),
            StatusCode::InvalidArgument);
  EXPECT_EQ(code_of([&] { g.all_reduce_mean({torch::zeros({2}, torch::kLong)}); }), StatusCode::InvalidArgument);
  EXPECT_EQ(code_of([&] { g.all_reduce_sum({torch::zeros({3, 3}).to_sparse()}); }), StatusCode::InvalidArgument);
  EXPECT_EQ(code_of([&] { g.broadcast({torch::zeros({2})}, 1); }), StatusCode::InvalidArgument);
  EXPECT_EQ(code_of([&] { g.broadcast({torch::zeros({2})}, -1); }), StatusCode::InvalidArgument);
  EXPECT_EQ(code_of([&] { g.all_gather_bytes(std::string((16u << 20) + 1, 'x')); }), StatusCode::InvalidArgument);
  EXPECT_EQ(code_of([&] { g.all_reduce_sum({torch::ones({1}).expand({4})}); }), StatusCode::InvalidArgument);
  EXPECT_EQ(code_of([&] { g.broadcast({torch::zeros({2}), torch::ones({1, 1}).expand({3, 3})}); }),
            StatusCode::InvalidArgument);
  // The flat sharded collectives: sizes that are not world parts, 2-d, integer, mixed dtypes, views.
  torch::Tensor part = torch::empty({2});
  EXPECT_EQ(code_of([&] { g.reduce_scatter_sum(torch::zeros({3}), part); }), StatusCode::InvalidArgument);
  EXPECT_EQ(code_of([&] { g.all_gather_flat(torch::zeros({3}), part); }), StatusCode::InvalidArgument);
  torch::Tensor square = torch::empty({2, 1});
  EXPECT_EQ(code_of([&] { g.reduce_scatter_sum(torch::zeros({2}), square); }), StatusCode::InvalidArgument);
  torch::Tensor ints = torch::empty({2}, torch::kLong);
  EXPECT_EQ(code_of([&] { g.reduce_scatter_sum(torch::zeros({2}, torch::kLong), ints); }), StatusCode::InvalidArgument);
  EXPECT_EQ(code_of([&] { g.reduce_scatter_sum(torch::zeros({2}, torch::kDouble), part); }),
            StatusCode::InvalidArgument);
  EXPECT_EQ(code_of([&] { g.reduce_scatter_sum(torch::zeros({4}).slice(0, 0, 4, 2), part); }),
            StatusCode::InvalidArgument);
}

TEST(ProcessGroupOne, EveryCollectiveIsTheIdentity) {
  ProcessGroup g(dist::World{});
  EXPECT_FALSE(g.has_backend());
  EXPECT_EQ(g.rank(), 0);
  EXPECT_EQ(g.size(), 1);
  check_identity(g);
  check_refusals(g);
}

TEST(ProcessGroupOne, MovedFromIsRefused) {
  ProcessGroup a(dist::World{});
  ProcessGroup b(std::move(a));
  EXPECT_EQ(b.size(), 1);
  EXPECT_EQ(code_of([&] { a.barrier(); }), StatusCode::InvalidArgument);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(code_of([&] { (void)a.rank(); }), StatusCode::InvalidArgument);
}

TEST(ProcessGroupOne, OptionsAreChecked) {
  dist::GroupOptions o;
  o.timeout = std::chrono::milliseconds(0);
  EXPECT_EQ(code_of([&] { ProcessGroup g(dist::World{}, o); }), StatusCode::InvalidArgument);
  o = {};
  o.bucket_bytes = 0;
  EXPECT_EQ(code_of([&] { ProcessGroup g(dist::World{}, o); }), StatusCode::InvalidArgument);
  dist::World bad;
  bad.rank = 1;
  EXPECT_EQ(code_of([&] { ProcessGroup g(bad); }), StatusCode::InvalidArgument);
  o = {};
  o.backend_for_one = true;  // no MASTER_ADDR/MASTER_PORT to listen on
  EXPECT_EQ(code_of([&] { ProcessGroup g(dist::World{}, o); }), StatusCode::InvalidArgument);
  // A world of one needs no backend, whether or not this build has it; creating one it lacks is refused.
  dist::World listening;
  listening.master_addr = "127.0.0.1";
  listening.master_port = 1;
  for (auto kind : {dist::BackendKind::Gloo, dist::BackendKind::Nccl}) {
    o = {};
    o.backend = kind;
    EXPECT_EQ(code_of([&] { ProcessGroup g(dist::World{}, o); }), StatusCode::Ok);
    if (dist::backend_available(kind)) continue;
    o.backend_for_one = true;
    EXPECT_EQ(code_of([&] { ProcessGroup g(listening, o); }), StatusCode::InvalidArgument);
  }
  EXPECT_STREQ(dist::backend_name(dist::BackendKind::Nccl), "nccl");
  EXPECT_STREQ(dist::backend_name(dist::BackendKind::Gloo), "gloo");
}

TEST(ProcessGroupOne, GlooBackendForOneProcess) {
  if (!dist::backend_available(dist::BackendKind::Gloo)) GTEST_SKIP() << "built without gloo's headers";
  dist::World w;
  w.master_addr = "127.0.0.1";
  w.master_port = static_cast<uint16_t>(free_port());
  dist::GroupOptions o;
  o.backend_for_one = true;
  o.timeout = std::chrono::seconds(10);
  o.bucket_bytes = 64;
  ProcessGroup g(w, o);
  EXPECT_TRUE(g.has_backend());
  check_identity(g);
  check_refusals(g);
  // Still usable after the refusals (they are not communication failures), on parameters too: leaves that
  // require grad, alone in a bucket and packed with others.
  torch::Tensor t = torch::ones({3});
  torch::Tensor p = torch::full({40}, 2.0f, torch::requires_grad()), q = torch::full({2}, 3.0f, torch::requires_grad());
  g.all_reduce_sum({t, p, q});
  g.broadcast({p, q, t}, 0);
  EXPECT_TRUE(torch::equal(t, torch::ones({3})));
  EXPECT_TRUE(torch::equal(p.detach(), torch::full({40}, 2.0f)) && p.requires_grad() && p.is_leaf());
  EXPECT_TRUE(torch::equal(q.detach(), torch::full({2}, 3.0f)) && q.requires_grad() && q.is_leaf());
}

TEST(ConfigDigest, IsStableAndSensitive) {
  EXPECT_EQ(dist::config_digest(""), 14695981039346656037ull);
  EXPECT_EQ(dist::config_digest("a"), 0xaf63dc4c8601ec8cull);  // FNV-1a 64 of "a"
  EXPECT_NE(dist::config_digest("lr: 0.001"), dist::config_digest("lr: 0.002"));
}

}  // namespace
}  // namespace memtx::test
