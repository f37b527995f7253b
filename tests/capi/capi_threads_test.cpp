// tests/capi/capi_threads_test.cpp: the C API's thread rules (memtx.h, "Threads"), through memtx.h alone.
// One model called from several threads gives the single-threaded results (forward, generate, tokenize, sessions,
// bit for bit); several models run at once; memtx_train refuses every other call on its model with MEMTX_BUSY
// and a second memtx_train too; memtx_cancel stops training from a signal handler and generation from another
// thread; memtx_config_set races readers safely. A stress loop, not TSan: LibTorch is not built with TSan, so
// TSan would report its thread pool's internals rather than memtx's.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/temp_dir.hpp"
#include "memtx.h"

namespace {

constexpr int64_t kVocab = 260;
constexpr int kThreads = 4;

const char* kModelYaml =
    "model:\n  hidden_dim: 32\n  num_heads: 4\n  num_layers: 2\n  intermediate_dim: 64\n  vocab_size: 260\n"
    "  max_seq_len: 256\n  device: cpu\nmemory:\n  vanilla_mode: true\n"
    "attention:\n  attention_list: [causal, infini]\ninfini_attention:\n  segment_length: 8\n"
    "training:\n  training_mode: pretraining\n  dataset_name: \"synthetic:associative_recall?pairs=2&examples=64\"\n"
    "  max_length: 32\n  batch_size: 2\n  max_steps: 100000\n  warmup_steps: 0\n  save_steps: 100000\n"
    "  eval_split: null\n  num_gpus: 0\n  mixed_precision: 'no'\n";

// Fails the test with the status's message (and frees it) unless it is OK.
void expect_ok(memtx_status* st, const char* what) {
  EXPECT_EQ(memtx_status_get_code(st), MEMTX_OK) << what << ": " << memtx_status_message(st);
  memtx_status_free(st);
}

memtx_status_code code_of(memtx_status* st) {
  const memtx_status_code code = memtx_status_get_code(st);
  memtx_status_free(st);
  return code;
}

struct ContextDeleter {
  void operator()(memtx_context* c) const { memtx_context_free(c); }
};
struct ConfigDeleter {
  void operator()(memtx_config* c) const { memtx_config_free(c); }
};
struct ModelDeleter {
  void operator()(memtx_model* m) const { memtx_model_free(m); }
};
using ContextPtr = std::unique_ptr<memtx_context, ContextDeleter>;
using ConfigPtr = std::unique_ptr<memtx_config, ConfigDeleter>;
using ModelPtr = std::unique_ptr<memtx_model, ModelDeleter>;

class CapiThreads : public ::testing::Test {
 protected:
  void SetUp() override {
    memtx_context* ctx = nullptr;
    memtx_context_options options = memtx_context_default_options();
    options.log_level = 0;
    expect_ok(memtx_context_create(&options, &ctx), "context");
    context_.reset(ctx);
    memtx_config* cfg = nullptr;
    expect_ok(memtx_config_parse(ctx, kModelYaml, &cfg), "config");
    config_.reset(cfg);
    expect_ok(memtx_config_set(cfg, "training.output_dir", dir_.path("out").c_str()), "output_dir");
  }

  ModelPtr make_model(int seed) {
    expect_ok(memtx_config_set(config_.get(), "model.seed", std::to_string(seed).c_str()), "seed");
    memtx_model* model = nullptr;
    expect_ok(memtx_model_create(context_.get(), config_.get(), &model), "model");
    return ModelPtr(model);
  }

  memtx_test::TempDir dir_;
  ContextPtr context_;
  ConfigPtr config_;
};

std::vector<int64_t> prompt_of(int which, int64_t length) {
  std::vector<int64_t> tokens(static_cast<size_t>(length));
  for (int64_t i = 0; i < length; ++i) tokens[static_cast<size_t>(i)] = (which * 37 + i * 11) % 256;
  return tokens;
}

std::vector<float> forward(memtx_model* model, const std::vector<int64_t>& tokens) {
  std::vector<float> logits(tokens.size() * kVocab);
  expect_ok(memtx_forward(model, tokens.data(), 1, static_cast<int64_t>(tokens.size()), logits.data(), logits.size()),
            "forward");
  return logits;
}

std::vector<int64_t> greedy(memtx_model* model, const std::vector<int64_t>& prompt) {
  memtx_generate_options options = memtx_generate_default_options();
  options.temperature = 0.0f;
  options.max_new_tokens = 12;
  options.stop_at_eos = 0;
  std::vector<int64_t> out(12);
  size_t count = 0;
  expect_ok(memtx_generate(model, prompt.data(), prompt.size(), &options, out.data(), out.size(), &count), "generate");
  out.resize(count);
  return out;
}

// A session fed the prompt in pieces of 5 tokens, then 8 sampled tokens (seeded): the logits after the feed and
// the sampled continuation.
struct SessionResult {
  std::vector<float> last_logits;
  std::vector<int64_t> continuation;
  bool operator==(const SessionResult& o) const {
    return last_logits == o.last_logits && continuation == o.continuation;
  }
};

SessionResult session_run(memtx_model* model, const std::vector<int64_t>& prompt) {
  memtx_session* session = nullptr;
  SessionResult result;
  result.last_logits.resize(kVocab);
  expect_ok(memtx_session_create(model, &session), "session_create");
  for (size_t at = 0; at < prompt.size(); at += 5) {
    const size_t n = std::min<size_t>(5, prompt.size() - at);
    expect_ok(memtx_session_feed(session, prompt.data() + at, n, result.last_logits.data(), kVocab), "feed");
  }
  memtx_generate_options options = memtx_generate_default_options();
  options.max_new_tokens = 8;
  options.seed = 17;
  options.stop_at_eos = 0;
  result.continuation.resize(8);
  size_t count = 0;
  expect_ok(memtx_session_generate(session, &options, result.continuation.data(), 8, &count), "session_generate");
  result.continuation.resize(count);
  EXPECT_EQ(memtx_session_position(session), static_cast<int64_t>(prompt.size() + count));
  memtx_session_free(session);
  return result;
}

// Runs body(thread, round) on kThreads threads for rounds rounds each, all starting together.
template <typename Body>
void on_threads(int rounds, Body body) {
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      for (int r = 0; r < rounds; ++r) body(t, r);
    });
  for (auto& thread : threads) thread.join();
}

TEST_F(CapiThreads, OneModelFromManyThreadsGivesTheSingleThreadedResults) {
  ModelPtr model = make_model(1);
  constexpr int kPrompts = 3;
  std::vector<std::vector<float>> logits;
  std::vector<std::vector<int64_t>> continuations;
  std::vector<SessionResult> sessions;
  for (int p = 0; p < kPrompts; ++p) {
    logits.push_back(forward(model.get(), prompt_of(p, 24)));
    continuations.push_back(greedy(model.get(), prompt_of(p, 10)));
    sessions.push_back(session_run(model.get(), prompt_of(p, 23)));
  }
  std::atomic<int> mismatches{0};
  on_threads(6, [&](int t, int r) {
    const int p = (t + r) % kPrompts;
    switch ((t + r) % 3) {
      case 0: mismatches += forward(model.get(), prompt_of(p, 24)) != logits[p]; break;
      case 1: mismatches += greedy(model.get(), prompt_of(p, 10)) != continuations[p]; break;
      default: mismatches += !(session_run(model.get(), prompt_of(p, 23)) == sessions[p]); break;
    }
    size_t count = 0;  // the tokenizer is loaded on first use: racing first uses must load it once
    expect_ok(memtx_tokenize(model.get(), "thread", nullptr, 0, &count), "tokenize");
    EXPECT_EQ(count, 6u);
  });
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(CapiThreads, OneSessionSharedByThreadsStaysConsistent) {
  ModelPtr model = make_model(2);
  memtx_session* session = nullptr;
  expect_ok(memtx_session_create(model.get(), &session), "session_create");
  const std::vector<int64_t> piece = {5, 6, 7};
  on_threads(10, [&](int, int) {
    expect_ok(memtx_session_feed(session, piece.data(), piece.size(), nullptr, 0), "feed");
    EXPECT_GE(memtx_session_state_bytes(session), 0);
  });
  // 40 feeds of the same piece, whatever their order: the stream is the piece 40 times.
  EXPECT_EQ(memtx_session_position(session), 3 * kThreads * 10);
  std::vector<float> shared(kVocab);
  expect_ok(memtx_session_feed(session, piece.data(), 1, shared.data(), kVocab), "feed");
  memtx_session* alone = nullptr;
  expect_ok(memtx_session_create(model.get(), &alone), "session_create");
  for (int i = 0; i < kThreads * 10; ++i) expect_ok(memtx_session_feed(alone, piece.data(), 3, nullptr, 0), "feed");
  std::vector<float> expected(kVocab);
  expect_ok(memtx_session_feed(alone, piece.data(), 1, expected.data(), kVocab), "feed");
  EXPECT_EQ(shared, expected);
  memtx_session_free(alone);
  memtx_session_free(session);
}

TEST_F(CapiThreads, SeveralModelsRunAtOnce) {
  std::vector<ModelPtr> models;
  std::vector<std::vector<float>> logits;
  std::vector<std::vector<int64_t>> continuations;
  for (int m = 0; m < kThreads; ++m) {
    models.push_back(make_model(10 + m));
    logits.push_back(forward(models.back().get(), prompt_of(m, 24)));
    continuations.push_back(greedy(models.back().get(), prompt_of(m, 10)));
  }
  EXPECT_NE(logits[0], logits[1]);  // different seeds, different models
  std::atomic<int> mismatches{0};
  on_threads(8, [&](int t, int r) {
    memtx_model* model = models[static_cast<size_t>(t)].get();
    if (r % 2 == 0) mismatches += forward(model, prompt_of(t, 24)) != logits[static_cast<size_t>(t)];
    else mismatches += greedy(model, prompt_of(t, 10)) != continuations[static_cast<size_t>(t)];
  });
  EXPECT_EQ(mismatches.load(), 0);
}

// The model the signal handler cancels.
std::atomic<memtx_model*> signalled_model{nullptr};
extern "C" void cancel_on_signal(int) { memtx_cancel(signalled_model.load()); }

struct TrainStarted {
  std::atomic<int64_t> steps{0};
};
extern "C" int count_steps(const memtx_train_progress* progress, void* user_data) {
  static_cast<TrainStarted*>(user_data)->steps.store(progress->step);
  return 0;
}

TEST_F(CapiThreads, TrainingRefusesOtherCallsAndStopsOnCancelFromASignalHandler) {
  ModelPtr model = make_model(3);
  const std::vector<int64_t> prompt = prompt_of(0, 24);
  const std::vector<float> before = forward(model.get(), prompt);
  TrainStarted started;
  expect_ok(memtx_model_set_progress_callback(model.get(), count_steps, &started), "callback");
  memtx_status_code train_code = MEMTX_OK;
  std::string train_message;
  std::thread trainer([&] {
    memtx_status* st = memtx_train(model.get(), config_.get());
    train_code = memtx_status_get_code(st);
    train_message = memtx_status_message(st);
    memtx_status_free(st);
  });
  while (started.steps.load() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  // Every other call on the model, and a second training, are refused at once and change nothing.
  std::vector<float> logits(prompt.size() * kVocab, -1.0f);
  memtx_status* st = memtx_forward(model.get(), prompt.data(), 1, 24, logits.data(), logits.size());
  EXPECT_EQ(memtx_status_get_code(st), MEMTX_BUSY);
  EXPECT_NE(std::strstr(memtx_status_message(st), "memtx_forward: memtx_train is running"), nullptr)
      << memtx_status_message(st);
  memtx_status_free(st);
  EXPECT_EQ(logits[0], -1.0f);
  EXPECT_EQ(code_of(memtx_train(model.get(), config_.get())), MEMTX_BUSY);
  memtx_session* session = nullptr;
  EXPECT_EQ(code_of(memtx_session_create(model.get(), &session)), MEMTX_BUSY);
  EXPECT_EQ(session, nullptr);
  char* text = nullptr;
  EXPECT_EQ(code_of(memtx_model_describe(model.get(), &text)), MEMTX_BUSY);
  memtx_train_progress progress{};
  expect_ok(memtx_train_poll(model.get(), &progress), "poll never waits");
  EXPECT_GE(progress.step, 2);
  // The running training's report is not replaced by the refused call's.
  char* report = nullptr;
  expect_ok(memtx_train_report(model.get(), &report), "report");
  EXPECT_STREQ(report, "{}");
  memtx_string_free(report);

  // memtx_cancel from a signal handler (it only stores an atomic flag).
  signalled_model.store(model.get());
  struct sigaction action {};
  struct sigaction previous {};
  action.sa_handler = cancel_on_signal;
  sigemptyset(&action.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR1, &action, &previous), 0);
  ASSERT_EQ(std::raise(SIGUSR1), 0);
  trainer.join();
  sigaction(SIGUSR1, &previous, nullptr);
  EXPECT_EQ(train_code, MEMTX_CANCELLED) << train_message;
  expect_ok(memtx_train_report(model.get(), &report), "report");
  EXPECT_NE(std::strstr(report, "\"cancelled\""), nullptr) << report;
  memtx_string_free(report);

  // After training the model is open again, and trained: its logits moved.
  EXPECT_NE(forward(model.get(), prompt), before);
}

TEST_F(CapiThreads, CancelFromAnotherThreadStopsGeneration) {
  ModelPtr model = make_model(4);
  memtx_generate_options options = memtx_generate_default_options();
  options.max_new_tokens = 100000;
  options.stop_at_eos = 0;
  std::vector<int64_t> out(100000);
  const std::vector<int64_t> prompt = prompt_of(1, 4);
  size_t count = 0;
  memtx_status_code code = MEMTX_OK;
  std::thread generator([&] {
    code = code_of(memtx_generate(model.get(), prompt.data(), prompt.size(), &options, out.data(), out.size(), &count));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  memtx_cancel(model.get());
  generator.join();
  EXPECT_EQ(code, MEMTX_CANCELLED);
  EXPECT_LT(count, out.size());
  // The flag is cleared when the next call starts: generation runs to its end again.
  options.max_new_tokens = 3;
  expect_ok(memtx_generate(model.get(), prompt.data(), prompt.size(), &options, out.data(), out.size(), &count), "again");
  EXPECT_EQ(count, 3u);
}

TEST_F(CapiThreads, ConfigSetRacesReadersSafely) {
  expect_ok(memtx_config_set(config_.get(), "training.weight_decay", "0.5"), "set");
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i)
      expect_ok(memtx_config_set(config_.get(), "training.weight_decay", i % 2 ? "0.25" : "0.5"), "set");
  });
  on_threads(50, [&](int, int) {
    char* value = nullptr;
    expect_ok(memtx_config_get(config_.get(), "training.weight_decay", &value), "get");
    const std::string v = value ? value : "";
    EXPECT_TRUE(v == "0.25" || v == "0.5") << v;
    memtx_string_free(value);
    char* dump = nullptr;
    expect_ok(memtx_config_dump(config_.get(), 0, &dump), "dump");
    memtx_string_free(dump);
    expect_ok(memtx_config_validate(config_.get()), "validate");
  });
  stop.store(true);
  writer.join();
}

}  // namespace
