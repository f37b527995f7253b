// bench/session_memory_bench.cpp: the memory a streaming session takes, on the CPU. Streams N random tokens
// (a fixed seed) through a small infini model (infini_small's shape: 4 x 256, [causal, infini], segments of
// 64, vocabulary 512) with infer::Session, in pieces of P tokens, and prints one JSON line:
//   peak_rss_kib (getrusage ru_maxrss: the process's high-water mark, libraries and weights included),
//   rss_kib_start (the resident size once the model is built, before the stream), rss_kib_at (the current resident size from /proc/self/statm after 1/4, 1/2, 3/4 and all of the stream),
//   state_bytes (after the last piece) and state_bytes_max (over every piece), the mean next-token loss,
//   seconds and tokens per second.
// Bounded memory means peak_rss_kib is the same for 8k and 64k tokens: bench/run_session_memory.sh runs both in
// separate processes and prints the ratio. Tokens are drawn piece by piece, so the program itself holds
// nothing that grows with N. Plugins come from the build tree (or MEMTX_PLUGIN_PATH).
// Usage: session_memory_bench [tokens (8192)] [piece (64)] [threads (1)]
#include <ATen/CPUGeneratorImpl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>

#include "infer/session.hpp"
#include "model/transformer.hpp"
#include "plugin/registry.hpp"

namespace {

using memtx::Config;

Config make_config(const memtx::Registry& registry) {
  Config c(registry.schema());
  c.set("model.hidden_dim", int64_t{256});
  c.set("model.num_heads", int64_t{4});
  c.set("model.num_layers", int64_t{4});
  c.set("model.intermediate_dim", int64_t{704});
  c.set("model.vocab_size", int64_t{512});
  c.set("model.device", std::string("cpu"));
  c.set("memory.vanilla_mode", true);
  c.set("attention.n_kv_group", int64_t{2});
  c.apply_override("attention.attention_list=[causal, infini]");
  c.set("infini_attention.segment_length", int64_t{64});
  c.validate();
  return c;
}

int64_t peak_rss_kib() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss);  // KiB on Linux
}

int64_t current_rss_kib() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<int64_t>(sysconf(_SC_PAGESIZE)) / 1024;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t tokens = argc > 1 ? std::max<int64_t>(1, std::atoll(argv[1])) : 8192;
  const int64_t piece = argc > 2 ? std::max<int64_t>(1, std::atoll(argv[2])) : 64;
  at::set_num_threads(argc > 3 ? std::max(1, std::atoi(argv[3])) : 1);
  try {
    memtx::Registry registry;
    registry.load_default_plugins();
    if (!registry.find("infini") || !registry.find("causal")) {
      std::fprintf(stderr, "session_memory_bench: the 'infini' and 'causal' variants are needed (build "
                           "memtx_plugins or set MEMTX_PLUGIN_PATH)\n");
      return 1;
    }
    const Config config = make_config(registry);
    memtx::Transformer model(config, registry);
    memtx::infer::Session session(*model);
    memtx::infer::FeedScore score;
    at::Generator generator = at::detail::createCPUGenerator(1234);
    const int64_t vocab = model->spec().vocab_size;
    std::vector<int64_t> ids(static_cast<size_t>(piece));
    nlohmann::json rss_at = nlohmann::json::object();
    int64_t state_max = 0, next_mark = 1;
    const int64_t rss_start = current_rss_kib();
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t done = 0; done < tokens;) {
      const int64_t n = std::min(piece, tokens - done);
      auto draw = torch::randint(0, vocab, {n}, generator, torch::kLong);
      ids.assign(draw.data_ptr<int64_t>(), draw.data_ptr<int64_t>() + n);
      session.feed(ids, &score);
      done += n;
      state_max = std::max(state_max, session.state_bytes());
      while (next_mark <= 4 && done * 4 >= next_mark * tokens) {
        rss_at[std::to_string(next_mark * tokens / 4)] = current_rss_kib();
        ++next_mark;
      }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    nlohmann::json j = {{"bench", "session_memory"},
                        {"tokens", tokens},
                        {"piece", piece},
                        {"segment_length", model->segment_length()},
                        {"threads", at::get_num_threads()},
                        {"position", session.position()},
                        {"state_bytes", session.state_bytes()},
                        {"state_bytes_max", state_max},
                        {"peak_rss_kib", peak_rss_kib()},
                        {"rss_kib_start", rss_start},
                        {"rss_kib_at", rss_at},
                        {"mean_loss", score.predicted ? score.loss_sum / static_cast<double>(score.predicted) : 0.0},
                        {"seconds", seconds},
                        {"tokens_per_second", static_cast<double>(tokens) / seconds}};
    std::printf("%s\n", j.dump().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "session_memory_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
