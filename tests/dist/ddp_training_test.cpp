// tests/dist/ddp_training_test.cpp: data-parallel training (train/data_parallel.hpp) against one process. Ranks
// are this test binary started by run_ranks (dist_support.hpp) with scenario train_ddp: the trainer joins the
// group from the environment. Checked:
//   2 ranks x batch b give the losses (1e-5 relative) and final weights (1e-5) of 1 rank x batch 2b, for a
//   causal and an infini (segmented, memory state) model, and every rank ends with the same weights bit for bit;
//   a 2-rank checkpoint resumed on 1 rank, and on 2 ranks, reproduces the uninterrupted 2-rank run;
//   a rank with a different configuration is refused at the start, naming it;
//   a memory model with chapter routing and all three router losses: 2 ranks = 1 rank doubled, the logged router
//   losses included (they are taken over the global batch, train/data_parallel.hpp);
//   fsdp SHARD_GRAD_OP (train/sharded_optimizer.hpp) = ddp = 1 rank doubled, with about half the optimizer state
//   per rank; its single-file checkpoint has ddp's tensors, resumes on 1 rank and on 2 ranks (bit for bit).
#include <gtest/gtest.h>
#include <unistd.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <fstream>
#include <sstream>

#include "dist/digest.hpp"
#include "dist/process_group.hpp"
#include "dist_support.hpp"
#include "io/safetensors.hpp"
#include "train/trainer_support.hpp"

namespace memtx::test {
namespace {

// "a;b;c" -> {a, b, c}
std::vector<std::string> split_overrides(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ';'))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string join_overrides(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ";") + i;
  return out;
}

// A digest of every parameter's bytes: equal on two ranks only when their weights are identical.
std::string parameter_digest(TransformerImpl& model) {
  std::string bytes;
  for (const auto& item : model.named_parameters()) {
    torch::Tensor t = item.value().detach().contiguous().cpu();
    bytes += item.key();
    bytes.append(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
  }
  return std::to_string(dist::config_digest(bytes));
}

// The rank side: trains with MEMTX_DDP_TEST_OVERRIDES (plus this rank's MEMTX_DDP_TEST_EXTRA_<rank>) into
// MEMTX_DDP_TEST_DIR and reports its status and parameter digest.
int run_training_rank() {
  std::map<std::string, std::string> report;
  try {
    const std::string dir = std::getenv("MEMTX_DDP_TEST_DIR");
    auto overrides = split_overrides(std::getenv("MEMTX_DDP_TEST_OVERRIDES"));
    const std::string rank = std::getenv("RANK");
    const std::string extra_var = "MEMTX_DDP_TEST_EXTRA_" + rank;
    if (const char* extra = std::getenv(extra_var.c_str())) overrides.push_back(extra);
    // MEMTX_DDP_TEST_DIE=<rank>:<ms>: that rank kills itself (SIGKILL) that long after training starts.
    if (const char* die = std::getenv("MEMTX_DDP_TEST_DIE")) {
      const std::string spec = die;
      if (spec.substr(0, spec.find(':')) == rank) {
        const int ms = std::stoi(spec.substr(spec.find(':') + 1));
        std::thread([ms] {
          std::this_thread::sleep_for(std::chrono::milliseconds(ms));
          ::kill(::getpid(), SIGKILL);
        }).detach();
      }
    }
    Transformer model(nullptr);
    const auto result = run_training(trainer_config(dir, overrides), {}, &model);
    report["status"] = result.status;
    report["digest"] = parameter_digest(*model);
    report["optimizer_bytes"] = std::to_string(result.optimizer_state_bytes);
  } catch (const std::exception& e) {
    report["status"] = "error";
    std::string message = e.what();
    for (char& c : message)
      if (c == '\n') c = ' ';
    report["message"] = message;
  }
  if (const char* path = std::getenv("MEMTX_DIST_TEST_REPORT")) {
    std::ofstream out(path);
    for (const auto& [k, v] : report) out << k << "=" << v << "\n";
  }
  return 0;
}

const bool training_rank_ran = [] {
  const char* scenario = std::getenv("MEMTX_DIST_TEST_SCENARIO");
  if (!scenario || std::string(scenario) != "train_ddp") return false;
  const int code = run_training_rank();
  std::fflush(nullptr);
  ::_exit(code);
}();

class DdpTraining : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!dist::backend_available(dist::BackendKind::Gloo)) GTEST_SKIP() << "built without gloo's headers";
  }

 public:
  // Trains on world ranks into dir; every rank must complete. Returns the runs.
  std::vector<RankRun> train_ranks(const std::string& dir, const std::vector<std::string>& overrides, int world = 2,
                                   const std::map<std::string, std::string>& env = {}) {
    RunSpec spec;
    spec.scenario = "train_ddp";
    spec.world_size = world;
    spec.deadline_seconds = 240;
    spec.env = env;
    spec.env["MEMTX_DDP_TEST_DIR"] = dir;
    spec.env["MEMTX_DDP_TEST_OVERRIDES"] = join_overrides(overrides);
    return run_ranks(spec);
  }
};

std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

// The final models' weights within 1e-5.
void expect_same_final_weights(const std::string& a_dir, const std::string& b_dir) {
  const auto wa = io::read_safetensors(a_dir + "/final_model/model.safetensors");
  const auto wb = io::read_safetensors(b_dir + "/final_model/model.safetensors");
  ASSERT_EQ(wa.tensors.size(), wb.tensors.size());
  for (const auto& [name, t] : wa.tensors) {
    const torch::Tensor* other = wb.find(name);
    ASSERT_NE(other, nullptr) << name;
    EXPECT_TRUE(torch::allclose(t, *other, 1e-5, 1e-5))
        << name << ": max difference " << (t - *other).abs().max().item<double>();
  }
}

// Losses of every step within 1e-5 relative, final weights within 1e-5.
void expect_same_run(const std::string& a_dir, const std::string& b_dir, size_t min_steps) {
  const auto a = train_losses(a_dir + "/metrics.jsonl"), b = train_losses(b_dir + "/metrics.jsonl");
  ASSERT_GE(a.size(), min_steps);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [step, loss] : a) {
    ASSERT_TRUE(b.count(step)) << "step " << step;
    EXPECT_NEAR(b.at(step), loss, 1e-5 * std::abs(loss)) << "step " << step;
  }
  expect_same_final_weights(a_dir, b_dir);
}

void expect_all_completed(const std::vector<RankRun>& runs) {
  ASSERT_FALSE(runs.empty());
  for (const auto& r : runs) ASSERT_EQ(r.get("status"), "completed") << describe(runs);
  for (const auto& r : runs) EXPECT_EQ(r.get("digest"), runs.front().get("digest")) << "ranks ended with different weights";
}

// 20 optimizer steps of 2 micro-batches; a checkpoint every 4, all kept (the resume tests start from step 12).
constexpr int64_t kSteps = 20;
const std::vector<std::string> kCommon = {"training.max_steps=20", "training.save_steps=4", "training.eval_steps=6",
                                          "training.gradient_accumulation_steps=2", "training.save_total_limit=null"};

void check_equivalence(DdpTraining& t, const std::vector<std::string>& model_overrides,
                       std::vector<RankRun> (DdpTraining::*train)(const std::string&, const std::vector<std::string>&,
                                                                  int, const std::map<std::string, std::string>&)) {
  ScratchDir dir("ddp");
  const auto common = with(kCommon, model_overrides);
  run_training(trainer_config(dir / "one", with(common, {"training.batch_size=4"})));
  const auto runs = (t.*train)(dir / "two", with(common, {"training.batch_size=2"}), 2, {});
  expect_all_completed(runs);
  expect_same_run(dir / "one", dir / "two", kSteps);
}

}  // namespace

TEST_F(DdpTraining, TwoRanksEqualOneRankWithTheDoubledBatchCausal) {
  check_equivalence(*this, {}, &DdpTraining::train_ranks);
}

TEST_F(DdpTraining, TwoRanksEqualOneRankWithTheDoubledBatchInfini) {
  check_equivalence(*this, {"attention.attention_variant=infini", "infini_attention.segment_length=8"},
                    &DdpTraining::train_ranks);
}

// Router losses with large weights, so a reduction that averaged each rank's own losses instead of taking
// them over the global batch would move the weights well beyond the tolerance.
const std::vector<std::string> kChapters = {
    "memory.vanilla_mode=false", "memory.num_memory_tokens=16", "memory.use_chapters=true", "memory.num_chapters=4",
    "memory.top_k_chapters=2", "memory.routing_strategy_train=token", "memory.use_load_balance_loss=true",
    "memory.load_balance_coefficient=1.0", "memory.use_auxiliary_loss=true", "memory.auxiliary_loss_coefficient=1.0",
    "memory.use_z_loss=true", "memory.z_loss_coefficient=0.1", "training.memory_lr=0.01"};

// The router records ("type": "router") rank 0 logs are the global batch's, like one process's.
void expect_same_router_losses(const std::string& a_dir, const std::string& b_dir) {
  auto routers = [](const std::string& path) {
    std::map<int64_t, nlohmann::json> out;
    for (const auto& r : read_metrics(path))
      if (r.value("type", "") == "router") out[r["step"].get<int64_t>()] = r["values"];
    return out;
  };
  const auto a = routers(a_dir + "/metrics.jsonl"), b = routers(b_dir + "/metrics.jsonl");
  ASSERT_FALSE(a.empty());
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [step, values] : a)
    for (const auto& [key, value] : values.items()) {
      ASSERT_TRUE(b.at(step).contains(key)) << key;
      // Relative 1e-5, with a floor for losses that have shrunk near 0 (an auxiliary loss of 9e-5 differed by
      // 1.2e-9 between the two summation orders in float32).
      const double expected = value.get<double>();
      EXPECT_NEAR(b.at(step)[key].get<double>(), expected, 1e-5 * std::max(std::abs(expected), 1e-3))
          << key << " at step " << step;
    }
}

TEST_F(DdpTraining, TwoRanksEqualOneRankWithTheDoubledBatchMemoryChapters) {
  ScratchDir dir("ddp-chapters");
  const auto common = with(kCommon, kChapters);
  run_training(trainer_config(dir / "one", with(common, {"training.batch_size=4"})));
  const auto runs = train_ranks(dir / "two", with(common, {"training.batch_size=2"}));
  expect_all_completed(runs);
  expect_same_run(dir / "one", dir / "two", kSteps);
  expect_same_router_losses(dir / "one", dir / "two");
}

const std::vector<std::string> kShardGradOp = {"training.distributed_strategy=fsdp",
                                               "training.fsdp_sharding_strategy=SHARD_GRAD_OP"};

// fsdp SHARD_GRAD_OP trains as ddp and as one process of the doubled batch, every rank ends with the same
// weights, and each rank holds about half of ddp's optimizer state.
TEST_F(DdpTraining, ShardGradOpEqualsDdpWithHalfTheOptimizerState) {
  ScratchDir dir("fsdp");
  const auto model = std::vector<std::string>{"model.num_layers=3"};
  const auto common = with(kCommon, model);
  run_training(trainer_config(dir / "one", with(common, {"training.batch_size=4"})));
  const auto ddp = train_ranks(dir / "ddp", with(common, {"training.batch_size=2"}));
  const auto fsdp = train_ranks(dir / "fsdp", with(with(common, kShardGradOp), {"training.batch_size=2"}));
  expect_all_completed(ddp);
  expect_all_completed(fsdp);
  expect_same_run(dir / "ddp", dir / "fsdp", kSteps);
  expect_same_run(dir / "one", dir / "fsdp", kSteps);
  const double whole = std::stod(ddp[0].get("optimizer_bytes"));
  ASSERT_GT(whole, 0);
  double sum = 0;
  for (const auto& r : fsdp) {
    const double part = std::stod(r.get("optimizer_bytes"));
    EXPECT_LT(part, 0.5 * whole + 1024) << "rank " << r.rank;
    sum += part;
  }
  EXPECT_GE(sum, whole) << "the shards together hold every state tensor";
  // The checkpoint is ddp's layout: the same optimizer tensors, names and shapes.
  const auto a = io::read_safetensors(dir / "ddp/checkpoint-20/optimizer.safetensors");
  const auto b = io::read_safetensors(dir / "fsdp/checkpoint-20/optimizer.safetensors");
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    const torch::Tensor* other = b.find(name);
    ASSERT_NE(other, nullptr) << name;
    EXPECT_EQ(t.sizes(), other->sizes()) << name;
    EXPECT_TRUE(torch::allclose(t.to(torch::kFloat64), other->to(torch::kFloat64), 1e-4, 1e-6)) << name;
  }
}

// A sharded run's checkpoint resumes on one process (no sharding) and on two sharded ranks; the latter ends with
// the uninterrupted run's weights bit for bit.
TEST_F(DdpTraining, ShardGradOpCheckpointResumesOnOneRankAndOnTwo) {
  ScratchDir dir("fsdp-resume");
  const auto sharded = with(kCommon, kShardGradOp);
  const auto whole = train_ranks(dir / "whole", with(sharded, {"training.batch_size=2"}));
  expect_all_completed(whole);
  for (const char* to : {"one", "two"}) {
    std::filesystem::create_directories(dir / to);
    std::filesystem::copy(dir / "whole/checkpoint-12", dir / (std::string(to) + "/checkpoint-12"),
                          std::filesystem::copy_options::recursive);
  }
  run_training(trainer_config(dir / "one", with(kCommon, {"training.batch_size=4", "training.resume_from_checkpoint=" +
                                                                                       (dir / "one/checkpoint-12")})));
  const auto two = train_ranks(dir / "two", with(sharded, {"training.batch_size=2", "training.resume_from_checkpoint=" +
                                                                                        (dir / "two/checkpoint-12")}));
  expect_all_completed(two);
  EXPECT_EQ(two.front().get("digest"), whole.front().get("digest")) << "the resumed sharded run ended elsewhere";
  expect_same_final_weights(dir / "whole", dir / "one");
}

// The cursor is the same on every rank: a checkpoint of a 2-rank run continues on one process of the doubled
// batch exactly where the 2-rank run went on.
TEST_F(DdpTraining, TwoRankCheckpointResumesOnOneRank) {
  ScratchDir dir("ddp-resume");
  const auto two = train_ranks(dir / "two", with(kCommon, {"training.batch_size=2"}));
  expect_all_completed(two);
  std::filesystem::create_directories(dir / "one");
  std::filesystem::copy(dir / "two/checkpoint-12", dir / "one/checkpoint-12", std::filesystem::copy_options::recursive);
  run_training(trainer_config(dir / "one", with(kCommon, {"training.batch_size=4", "training.resume_from_checkpoint=" +
                                                                                       (dir / "one/checkpoint-12")})));
  expect_same_final_weights(dir / "two", dir / "one");
  const auto losses_two = train_losses(dir / "two/metrics.jsonl"), losses_one = train_losses(dir / "one/metrics.jsonl");
  for (int64_t step = 13; step <= kSteps; ++step)
    EXPECT_NEAR(losses_one.at(step), losses_two.at(step), 1e-5 * std::abs(losses_two.at(step))) << step;
}

// A 2-rank run resumed from its own checkpoint (every rank loads the same files) reproduces the uninterrupted
// 2-rank run: the same losses after the checkpoint and the same final weights.
TEST_F(DdpTraining, ResumedTwoRankRunEqualsTheUninterruptedOne) {
  ScratchDir dir("ddp-resume-two");
  const auto whole = train_ranks(dir / "whole", with(kCommon, {"training.batch_size=2"}));
  expect_all_completed(whole);
  std::filesystem::create_directories(dir / "resumed");
  std::filesystem::copy(dir / "whole/checkpoint-12", dir / "resumed/checkpoint-12",
                        std::filesystem::copy_options::recursive);
  const auto resumed = train_ranks(dir / "resumed", with(kCommon, {"training.batch_size=2",
                                                                   "training.resume_from_checkpoint=" +
                                                                       (dir / "resumed/checkpoint-12")}));
  expect_all_completed(resumed);
  EXPECT_EQ(resumed.front().get("digest"), whole.front().get("digest")) << "the resumed run ended elsewhere";
  const auto a = train_losses(dir / "whole/metrics.jsonl"), b = train_losses(dir / "resumed/metrics.jsonl");
  for (int64_t step = 13; step <= kSteps; ++step) {
    ASSERT_TRUE(a.count(step) && b.count(step)) << step;
    EXPECT_NEAR(b.at(step), a.at(step), 1e-6 * std::abs(a.at(step))) << step;
  }
}

TEST_F(DdpTraining, RankWithAnotherConfigIsRefused) {
  ScratchDir dir("ddp-digest");
  const auto runs = train_ranks(dir.path(), with(kCommon, {"training.batch_size=2"}), 2,
                                {{"MEMTX_DDP_TEST_EXTRA_1", "training.base_model_lr=0.004"}});
  ASSERT_EQ(runs.size(), 2u);
  for (const auto& r : runs) {
    EXPECT_EQ(r.get("status"), "error") << describe(runs);
    EXPECT_NE(r.get("message").find("rank 1"), std::string::npos) << r.get("message");
  }
}

// A rank that dies in the middle of training (SIGKILL) makes the other stop with an error naming it, well
// before the collective timeout, instead of hanging.
TEST_F(DdpTraining, KilledRankStopsTheOthersWithAnError) {
  ScratchDir dir("ddp-kill");
  const auto start = std::chrono::steady_clock::now();
  const auto runs = train_ranks(dir.path(), with(kCommon, {"training.batch_size=2", "training.max_steps=100000",
                                                          "training.save_steps=100000", "training.eval_steps=100000"}),
                                2, {{"MEMTX_DDP_TEST_DIE", "1:1500"}});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].signal, SIGKILL) << describe(runs);
  EXPECT_EQ(runs[0].get("status"), "error") << describe(runs);
  EXPECT_NE(runs[0].get("message").find("rank 1"), std::string::npos) << runs[0].get("message");
  EXPECT_LT(seconds, 45.0);
}

}  // namespace memtx::test
