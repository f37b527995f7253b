// Runs of several processes on loopback (dist_support.hpp): exact collectives over 3 ranks, a configuration
// mismatch named by rank, a port in use named by endpoint, and failures in bounded time instead of hangs: a
// peer killed with SIGKILL (rank 1, and rank 0 which holds the store), a peer that never joins a collective, and
// a rendezvous that a rank never reaches.
#include <gtest/gtest.h>

#include <signal.h>

#include "dist/process_group.hpp"
#include "dist_support.hpp"

namespace memtx::test {
namespace {

// Every test here starts processes that use the gloo backend.
class MultiRank : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!dist::backend_available(dist::BackendKind::Gloo)) GTEST_SKIP() << "built without gloo's headers";
  }
};

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

double number(const RankRun& run, const char* key) {
  const std::string v = run.get(key);
  return v.empty() ? 1e9 : std::stod(v);
}

constexpr const char* kIo = "3";      // StatusCode::Io
constexpr const char* kConfig = "4";  // StatusCode::Config

TEST_F(MultiRank, CollectivesGiveExactResults) {
  RunSpec spec;
  spec.scenario = "collectives";
  spec.world_size = 3;
  spec.env = {{"MEMTX_DIST_TEST_BUCKET_BYTES", "256"}};  // several buckets, and tensors alone in theirs
  const auto runs = run_ranks(spec);
  for (const auto& run : runs) EXPECT_EQ(run.get("status"), "ok") << describe(runs);
}

TEST_F(MultiRank, ConfigDigestMismatchNamesTheRank) {
  RunSpec spec;
  spec.scenario = "digest";
  spec.world_size = 3;
  spec.env = {{"MEMTX_DIST_TEST_ODD_RANKS", "1"}};
  const auto runs = run_ranks(spec);
  for (const auto& run : runs) {
    EXPECT_EQ(run.get("code"), kConfig) << describe(runs);
    const std::string message = run.get("message");
    EXPECT_TRUE(has(message, "rank 1 differs from rank 0")) << message;
    EXPECT_FALSE(has(message, "rank 2")) << message;
  }
  spec.env = {{"MEMTX_DIST_TEST_ODD_RANKS", ""}};
  const auto same = run_ranks(spec);
  for (const auto& run : same) EXPECT_EQ(run.get("status"), "ok") << describe(same);
}

TEST_F(MultiRank, PortInUseNamesTheEndpoint) {
  ListeningSocket taken;
  RunSpec spec;
  spec.scenario = "create_only";
  spec.world_size = 2;
  spec.ranks = {0};
  spec.port = taken.port();
  spec.env = {{"MEMTX_DIST_TEST_TIMEOUT_MS", "5000"}};
  const auto runs = run_ranks(spec);
  const RankRun& r0 = runs.at(0);
  EXPECT_EQ(r0.get("code"), kIo) << describe(runs);
  const std::string message = r0.get("message");
  EXPECT_TRUE(has(message, "MASTER_ADDR:MASTER_PORT = 127.0.0.1:" + std::to_string(taken.port()))) << message;
  EXPECT_TRUE(has(message, "already in use")) << message;
  EXPECT_LT(number(r0, "total"), 10) << describe(runs);
}

// The survivors' reports after victim died by SIGKILL: Error(Io) naming the victim (one of the texts in
// named), in bounded time, and every later call refused at once.
void expect_peer_death(int world_size, int victim, const std::vector<std::string>& named) {
  RunSpec spec;
  spec.scenario = "kill_peer";
  spec.world_size = world_size;
  spec.env = {{"MEMTX_DIST_TEST_VICTIM", std::to_string(victim)}, {"MEMTX_DIST_TEST_TIMEOUT_MS", "20000"}};
  const auto runs = run_ranks(spec);
  EXPECT_EQ(runs.at(victim).signal, SIGKILL) << describe(runs);
  for (const auto& survivor : runs) {
    if (survivor.rank == victim) continue;
    EXPECT_TRUE(survivor.exited) << describe(runs);
    EXPECT_EQ(survivor.get("code"), kIo) << describe(runs);
    const std::string message = survivor.get("message");
    EXPECT_TRUE(has(message, "distributed all_reduce_sum on rank " + std::to_string(survivor.rank) + " of " +
                                 std::to_string(world_size)))
        << message;
    bool names = false;
    for (const auto& text : named) names = names || has(message, text);
    EXPECT_TRUE(names) << message;
    EXPECT_LT(number(survivor, "elapsed"), 30) << describe(runs);
    EXPECT_TRUE(has(survivor.get("second"), "broken by an earlier failure")) << describe(runs);
  }
}

// Peers on this machine are named by their process (each rank's pid is read at creation). A survivor may
// also see another survivor that already gave up and exited: "rank 0, rank 2 have exited".
TEST_F(MultiRank, KilledPeerFailsTheCollective) { expect_peer_death(2, 1, {"rank 1 has exited"}); }

TEST_F(MultiRank, KilledRankZeroFailsTheCollective) { expect_peer_death(2, 0, {"rank 0 has exited"}); }

TEST_F(MultiRank, KilledPeerOfThreeIsNamed) {
  expect_peer_death(3, 2, {"rank 2 has exited", "rank 0, rank 2 have exited", "rank 1, rank 2 have exited"});
}

TEST_F(MultiRank, PeerThatNeverJoinsTimesOut) {
  RunSpec spec;
  spec.scenario = "hang_peer";
  spec.world_size = 2;
  spec.wait_for = {0};  // rank 1 sleeps until the test kills it
  spec.env = {{"MEMTX_DIST_TEST_TIMEOUT_MS", "2000"}};
  const auto runs = run_ranks(spec);
  const RankRun& r0 = runs.at(0);
  EXPECT_EQ(r0.get("code"), kIo) << describe(runs);
  EXPECT_TRUE(has(r0.get("message"), "communication with rank 1 failed")) << describe(runs);
  EXPECT_GE(number(r0, "elapsed"), 1.5) << describe(runs);
  EXPECT_LT(number(r0, "elapsed"), 15) << describe(runs);
}

TEST_F(MultiRank, RendezvousWithoutEveryRankTimesOut) {
  RunSpec spec;
  spec.scenario = "create_only";
  spec.world_size = 3;
  spec.ranks = {0, 1};  // rank 2 never starts
  spec.env = {{"MEMTX_DIST_TEST_TIMEOUT_MS", "2000"}};
  const auto runs = run_ranks(spec);
  for (const auto& run : runs) {
    EXPECT_EQ(run.get("code"), kIo) << describe(runs);
    EXPECT_LT(number(run, "total"), 15) << describe(runs);
  }
  // Rank 0 waits for the missing rank at the store; rank 1 joined it and waits for the others' gloo addresses.
  EXPECT_TRUE(has(runs.at(0).get("message"), "127.0.0.1:")) << describe(runs);
  EXPECT_TRUE(has(runs.at(0).get("message"), "not all 3 processes joined")) << describe(runs);
  EXPECT_TRUE(has(runs.at(1).get("message"), "could not connect to all 3 processes")) << describe(runs);
}

}  // namespace
}  // namespace memtx::test
