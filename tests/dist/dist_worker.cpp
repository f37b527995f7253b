// tests/dist/dist_worker.cpp: the rank side of the multi-process tests. When MEMTX_DIST_TEST_SCENARIO is set, the
// test binary is a rank (dist_support.hpp): before main it runs the scenario over a ProcessGroup made from the
// environment, writes key=value lines to MEMTX_DIST_TEST_REPORT and exits without running any test.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include <torch/torch.h>

#include "dist/digest.hpp"
#include "dist/process_group.hpp"
#include "dist/world.hpp"
#include "memtx/error.hpp"

namespace memtx::test {
namespace {

using dist::ProcessGroup;
using Clock = std::chrono::steady_clock;

struct Report {
  std::map<std::string, std::string> values;
  std::string failures;  // "; "-joined checks that failed
  void set(const std::string& k, const std::string& v) {
    std::string flat = v;
    for (char& c : flat)
      if (c == '\n') c = ' ';
    values[k] = flat;
  }
  void check(bool ok, const std::string& what) {
    if (!ok) failures += (failures.empty() ? "" : "; ") + what;
  }
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

dist::GroupOptions options_from_env() {
  dist::GroupOptions o;
  o.timeout = std::chrono::milliseconds(env_int("MEMTX_DIST_TEST_TIMEOUT_MS", 20000));
  o.bucket_bytes = env_int("MEMTX_DIST_TEST_BUCKET_BYTES", 25 << 20);
  return o;
}

bool same(const torch::Tensor& a, const torch::Tensor& b) { return a.sizes() == b.sizes() && torch::equal(a, b); }

// Sums, means, broadcasts and gathers over every rank, with values whose results are exact.
void collectives(ProcessGroup& g, Report& out) {
  const int r = g.rank(), n = g.size();
  const double rank_sum = n * (n - 1) / 2.0;  // 0 + 1 + ... + n-1
  struct sigaction pipe_action {};
  sigaction(SIGPIPE, nullptr, &pipe_action);
  out.check(pipe_action.sa_handler == SIG_IGN, "SIGPIPE is not ignored after the group was created");

  // One tensor: sum and mean.
  torch::Tensor a = torch::arange(6, torch::kFloat).reshape({2, 3}) + 100 * r;
  g.all_reduce_sum({a});
  out.check(same(a, torch::arange(6, torch::kFloat).reshape({2, 3}) * n + 100 * rank_sum), "sum of one tensor");
  torch::Tensor m = torch::full({4}, 3.0 * (r + 1), torch::kDouble);
  g.all_reduce_mean({m});
  out.check(same(m, torch::full({4}, 3.0 * (rank_sum + n) / n, torch::kDouble)), "mean");

  // Several tensors of different shapes and dtypes, a non-contiguous view and a scalar, in small buckets.
  torch::Tensor base = torch::arange(12, torch::kFloat).reshape({3, 4}) * (r + 1);
  std::vector<torch::Tensor> list = {
      torch::full({5}, static_cast<double>(r), torch::kFloat),
      torch::arange(7, torch::kLong) + 1000 * r,
      base.t(),  // a transposed view: written back into base
      torch::full({3, 2}, static_cast<double>(r + 1), torch::kBFloat16),
      torch::full({}, static_cast<double>(2 * r), torch::kDouble),
      torch::ones({1000}, torch::kFloat) * r,  // larger than the test's bucket: a bucket of its own
      torch::empty({0}, torch::kFloat),
      torch::full({2, 2}, static_cast<int64_t>(r + 5), torch::kInt),
  };
  g.all_reduce_sum(list);
  out.check(same(list[0], torch::full({5}, rank_sum, torch::kFloat)), "bucketed float32");
  out.check(same(list[1], torch::arange(7, torch::kLong) * n + static_cast<int64_t>(1000 * rank_sum)),
            "bucketed int64");
  out.check(same(base, torch::arange(12, torch::kFloat).reshape({3, 4}) * (rank_sum + n)),
            "bucketed non-contiguous view written back");
  out.check(same(list[3], torch::full({3, 2}, rank_sum + n, torch::kBFloat16)), "bucketed bfloat16");
  out.check(list[4].item<double>() == 2 * rank_sum, "bucketed scalar");
  out.check(same(list[5], torch::ones({1000}, torch::kFloat) * rank_sum), "bucketed large tensor");
  out.check(same(list[7], torch::full({2, 2}, static_cast<int64_t>(rank_sum + 5 * n), torch::kInt)),
            "bucketed int32");

  // Broadcast from rank 0 and from the last rank.
  for (int root : {0, n - 1}) {
    std::vector<torch::Tensor> b = {torch::full({3}, static_cast<double>(r), torch::kFloat),
                                    torch::full({2, 2}, static_cast<int64_t>(r), torch::kLong),
                                    torch::full({300}, static_cast<double>(r), torch::kFloat)};
    g.broadcast(b, root);
    out.check(same(b[0], torch::full({3}, static_cast<double>(root), torch::kFloat)) &&
                  same(b[1], torch::full({2, 2}, static_cast<int64_t>(root), torch::kLong)) &&
                  same(b[2], torch::full({300}, static_cast<double>(root), torch::kFloat)),
              "broadcast from rank " + std::to_string(root));
  }

  // Parameters (leaves that require grad): one alone in its bucket (written in place), two packed together.
  torch::Tensor big = torch::full({100}, static_cast<double>(r), torch::requires_grad());
  torch::Tensor w1 = torch::full({3}, static_cast<double>(r), torch::requires_grad());
  torch::Tensor w2 = torch::full({2, 2}, static_cast<double>(r), torch::requires_grad());
  g.broadcast({w1, big, w2}, 0);
  out.check(torch::equal(big.detach(), torch::zeros({100})) && torch::equal(w1.detach(), torch::zeros({3})) &&
                torch::equal(w2.detach(), torch::zeros({2, 2})) && big.is_leaf() && big.requires_grad() &&
                w1.requires_grad() && w2.is_leaf(),
            "broadcast of parameters");

  // All-gather of vectors whose length differs per rank (rank 1 sends nothing).
  std::vector<int64_t> mine;
  if (r != 1)
    for (int i = 0; i <= r; ++i) mine.push_back(10 * r + i - (int64_t{1} << 40));
  const auto all = g.all_gather_int64(mine);
  bool gathered = static_cast<int>(all.size()) == n;
  for (int q = 0; gathered && q < n; ++q) {
    std::vector<int64_t> want;
    if (q != 1)
      for (int i = 0; i <= q; ++i) want.push_back(10 * q + i - (int64_t{1} << 40));
    gathered = all[q] == want;
  }
  out.check(gathered, "all_gather_int64");
  const auto bytes = g.all_gather_bytes(std::string("rank\0", 5) + std::to_string(r));
  bool bytes_ok = static_cast<int>(bytes.size()) == n;
  for (int q = 0; bytes_ok && q < n; ++q) bytes_ok = bytes[q] == std::string("rank\0", 5) + std::to_string(q);
  out.check(bytes_ok, "all_gather_bytes");

  // Flat sharded collectives: rank r's input is [0, 1, ..., 3n-1] + 1000 r, so part q of the sum is exact.
  torch::Tensor whole = torch::arange(3 * n, torch::kFloat) + 1000 * r, part = torch::empty({3}, torch::kFloat);
  g.reduce_scatter_sum(whole, part);
  out.check(same(part, (torch::arange(3, torch::kFloat) + 3 * r) * n + 1000 * rank_sum), "reduce_scatter_sum");
  torch::Tensor gathered_flat = torch::empty({2 * n}, torch::kDouble);
  g.all_gather_flat(torch::full({2}, static_cast<double>(r), torch::kDouble), gathered_flat);
  out.check(same(gathered_flat, torch::arange(n, torch::kDouble).repeat_interleave(2)), "all_gather_flat");

  g.check_config_digest(dist::config_digest("model: {hidden_dim: 64}\n"));
  g.barrier();
}

// Ranks listed in MEMTX_DIST_TEST_ODD_RANKS (comma-separated) contribute another configuration.
void digest(ProcessGroup& g, Report&) {
  const std::string odd = std::string(",") + (std::getenv("MEMTX_DIST_TEST_ODD_RANKS") ?: "") + ",";
  const bool differs = odd.find("," + std::to_string(g.rank()) + ",") != std::string::npos;
  g.check_config_digest(dist::config_digest(differs ? "training: {lr: 0.002}\n" : "training: {lr: 0.001}\n"));
}

// MEMTX_DIST_TEST_VICTIM dies by SIGKILL after a first barrier; the others keep reducing until that fails,
// then try once more (the group must now refuse at once).
void kill_peer(ProcessGroup& g, Report& out) {
  g.barrier();
  if (g.rank() == env_int("MEMTX_DIST_TEST_VICTIM", 1)) ::raise(SIGKILL);
  const auto start = Clock::now();
  try {
    for (int i = 0; i < 100000; ++i) {
      torch::Tensor t = torch::ones({1 << 16});
      g.all_reduce_sum({t});
    }
    out.set("status", "no failure");
    return;
  } catch (const Error& e) {
    out.set("elapsed", std::to_string(seconds_since(start)));
    out.set("code", std::to_string(static_cast<int>(e.code())));
    out.set("message", e.what());
  }
  try {
    torch::Tensor t = torch::ones({4});
    g.all_reduce_sum({t});
    out.set("second", "succeeded");
  } catch (const Error& e) {
    out.set("second", e.what());
  }
  out.set("status", "error");
}

// Rank 1 never joins the collective (it sleeps until the test kills it); rank 0's must time out.
void hang_peer(ProcessGroup& g, Report& out) {
  g.barrier();
  if (g.rank() == 1) std::this_thread::sleep_for(std::chrono::seconds(120));
  const auto start = Clock::now();
  torch::Tensor t = torch::ones({8});
  try {
    g.all_reduce_sum({t});
    out.set("status", "no failure");
  } catch (const Error& e) {
    out.set("elapsed", std::to_string(seconds_since(start)));
    throw;
  }
}

// Creating the group is the whole scenario (port in use, missing ranks).
void create_only(ProcessGroup&, Report& out) { out.set("status", "created"); }

int run_worker(const std::string& scenario) {
  static const std::map<std::string, std::function<void(ProcessGroup&, Report&)>> scenarios = {
      {"collectives", collectives}, {"digest", digest},       {"kill_peer", kill_peer},
      {"hang_peer", hang_peer},     {"create_only", create_only}};
  Report out;
  const auto start = Clock::now();
  try {
    const auto it = scenarios.find(scenario);
    if (it == scenarios.end()) throw std::runtime_error("no scenario " + scenario);
    ProcessGroup group(dist::world_from_env(), options_from_env());
    out.set("created_after", std::to_string(seconds_since(start)));
    it->second(group, out);
    if (out.values.count("status") == 0) out.set("status", out.failures.empty() ? "ok" : "fail");
    if (!out.failures.empty()) out.set("failures", out.failures);
  } catch (const Error& e) {
    out.set("status", "error");
    out.set("code", std::to_string(static_cast<int>(e.code())));
    out.set("message", e.what());
  } catch (const std::exception& e) {
    out.set("status", "foreign exception");
    out.set("message", e.what());
  }
  out.set("total", std::to_string(seconds_since(start)));
  const char* path = std::getenv("MEMTX_DIST_TEST_REPORT");
  if (path) {
    std::ofstream file(path);
    for (const auto& [k, v] : out.values) file << k << "=" << v << "\n";
  }
  return 0;
}

// Runs before main when this process is a rank; never returns then.
const bool worker_ran = [] {
  const char* scenario = std::getenv("MEMTX_DIST_TEST_SCENARIO");
  // Scenarios named train_* make the trainer join the group itself (ddp_training_test.cpp runs them).
  if (!scenario || std::string(scenario).rfind("train_", 0) == 0) return false;
  const int code = run_worker(scenario);
  std::fflush(nullptr);
  ::_exit(code);
}();

}  // namespace
}  // namespace memtx::test
