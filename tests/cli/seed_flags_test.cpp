// tests/cli/seed_flags_test.cpp: the seeds' flags (--attention_list causal ssm, --use_qk_norm, ...) become
// the exact --set assignments, in place and in order; unknown, ambiguous and value-less flags fail with
// messages that name the flag and suggest the nearest names; the assignments set the config through the C API.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

#include "cli_common.hpp"
#include "common/hang_guard.hpp"
#include "seed_flags.hpp"

namespace memtx_cli {
namespace {

using Strings = std::vector<std::string>;

// The options of verify-config as cxxopts knows them (long names).
const std::set<std::string> kVerifyOptions = {"help", "plugin-dir", "config-file", "config", "set", "dump", "json"};

// The C API's status and strings (the test has its own: cli_common.cpp is not part of test_cli).
void check(memtx_status* st) {
  if (!st) return;
  std::string message = memtx_status_message(st);
  memtx_status_free(st);
  throw std::runtime_error(message);
}
std::string take_string(char* text) {
  std::string out(text ? text : "");
  memtx_string_free(text);
  return out;
}

// The schema of a context with the build tree's default plugins, read through the C API like memtx-cli does.
const std::vector<SchemaKey>& real_schema() {
  static const std::vector<SchemaKey> keys = [] {
    memtx_context* ctx = nullptr;
    check(memtx_context_create(nullptr, &ctx));
    char* text = nullptr;
    memtx_status* st = memtx_config_schema(ctx, &text);
    memtx_context_free(ctx);
    check(st);
    return schema_keys_from_json(take_string(text));
  }();
  return keys;
}

std::string error_of(const Strings& args, const std::set<std::string>& own, const std::vector<SchemaKey>& schema) {
  try {
    translate_seed_flags(args, own, schema);
  } catch (const CliError& e) {
    return e.what();
  }
  return "no error";
}

TEST(SeedFlags, TheSeedsFlagsBecomeExactAssignmentsInPlace) {
  const Strings args = {"verify-config", "--config-file", "x.yaml", "--attention_list", "causal", "infini", "ssm",
                        "--attention_variant", "ssm", "--n_kv_group", "2", "--use_qk_norm", "--hidden_dim=256",
                        "--set", "model.vocab_size=50", "--max_steps", "100", "--segment_length", "128",
                        "--model.num_layers", "4", "--dump"};
  const SeedTranslation t = translate_seed_flags(args, kVerifyOptions, real_schema());
  const std::vector<FlagAssignment> expected = {
      {"attention.attention_list", "causal infini ssm", "--attention_list"},
      {"attention.attention_variant", "ssm", "--attention_variant"},
      {"attention.n_kv_group", "2", "--n_kv_group"},
      {"attention.use_qk_norm", "true", "--use_qk_norm"},
      {"model.hidden_dim", "256", "--hidden_dim"},
      {"training.max_steps", "100", "--max_steps"},
      {"infini_attention.segment_length", "128", "--segment_length"},
      {"model.num_layers", "4", "--model.num_layers"},
  };
  EXPECT_EQ(t.assignments, expected);
  const Strings expected_args = {"verify-config", "--config-file", "x.yaml",
                                 "--set", "attention.attention_list=causal infini ssm",
                                 "--set", "attention.attention_variant=ssm",
                                 "--set", "attention.n_kv_group=2",
                                 "--set", "attention.use_qk_norm=true",
                                 "--set", "model.hidden_dim=256",
                                 "--set", "model.vocab_size=50",
                                 "--set", "training.max_steps=100",
                                 "--set", "infini_attention.segment_length=128",
                                 "--set", "model.num_layers=4",
                                 "--dump"};
  EXPECT_EQ(t.args, expected_args);
}

TEST(SeedFlags, BoolFlagsTakeAnExplicitValueOnlyWhenItLooksLikeOne) {
  auto one = [](const Strings& args) {
    auto t = translate_seed_flags(args, kVerifyOptions, real_schema());
    EXPECT_EQ(t.assignments.size(), 1u);
    return t.assignments.empty() ? std::string("?") : t.assignments[0].value;
  };
  EXPECT_EQ(one({"verify-config", "--use_qk_norm", "false"}), "false");
  EXPECT_EQ(one({"verify-config", "--use_qk_norm=false"}), "false");
  EXPECT_EQ(one({"verify-config", "--use_qk_norm", "True"}), "True");
  EXPECT_EQ(one({"verify-config", "--use_qk_norm", "0"}), "0");  // taken, and rejected by memtx_config_set
  auto t = translate_seed_flags({"verify-config", "--use_qk_norm", "--dump", "x.yaml"}, kVerifyOptions, real_schema());
  EXPECT_EQ(t.assignments[0].value, "true");
  EXPECT_EQ(t.args, (Strings{"verify-config", "--set", "attention.use_qk_norm=true", "--dump", "x.yaml"}));
}

TEST(SeedFlags, ListsEndAtTheNextOptionAndKeepNegativeNumbers) {
  auto t = translate_seed_flags({"train", "--memory_layer_indices", "0", "-1", "5", "-c", "a.yaml", "--attention_list",
                                 "causal,ssm", "--", "--hidden_dim", "3"},
                                kVerifyOptions, real_schema());
  ASSERT_EQ(t.assignments.size(), 2u);
  EXPECT_EQ(t.assignments[0].key, "memory.memory_layer_indices");
  EXPECT_EQ(t.assignments[0].value, "0 -1 5");
  EXPECT_EQ(t.assignments[1].value, "causal,ssm");
  // Everything after "--" is left alone.
  EXPECT_EQ(t.args, (Strings{"train", "--set", "memory.memory_layer_indices=0 -1 5", "-c", "a.yaml", "--set",
                             "attention.attention_list=causal,ssm", "--", "--hidden_dim", "3"}));
}

TEST(SeedFlags, DashesStandForUnderscoresAndOwnOptionsWin) {
  auto t = translate_seed_flags({"x", "--hidden-dim", "64", "--max_steps", "7"}, {"max_steps", "set"}, real_schema());
  ASSERT_EQ(t.assignments.size(), 1u);
  EXPECT_EQ(t.assignments[0].key, "model.hidden_dim");
  EXPECT_EQ(t.args, (Strings{"x", "--set", "model.hidden_dim=64", "--max_steps", "7"}));
  EXPECT_FALSE(has_config_flags({"x", "--max_steps=7", "pos", "--", "--hidden_dim"}, {"max_steps"}));
  EXPECT_TRUE(has_config_flags({"x", "--max_steps=7", "--hidden_dim=3"}, {"max_steps"}));
}

TEST(SeedFlags, UnknownFlagsNameTheCommandAndSuggestNearestNames) {
  std::string msg = error_of({"verify-config", "--hiden_dim", "256"}, kVerifyOptions, real_schema());
  EXPECT_NE(msg.find("unknown option '--hiden_dim'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("memtx-cli verify-config"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean --hidden_dim"), std::string::npos) << msg;
  msg = error_of({"verify-config", "--dupm"}, kVerifyOptions, real_schema());  // a misspelt command option
  EXPECT_NE(msg.find("--dump"), std::string::npos) << msg;
  msg = error_of({"verify-config", "--model.hiden_dim=3"}, kVerifyOptions, real_schema());
  EXPECT_NE(msg.find("--model.hidden_dim"), std::string::npos) << msg;
  msg = error_of({"verify-config", "--completely_unrelated_words", "1"}, kVerifyOptions, real_schema());
  EXPECT_NE(msg.find("config-reference"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("did you mean"), std::string::npos) << msg;
}

TEST(SeedFlags, AmbiguousBareNamesListTheFullKeys) {
  const std::vector<SchemaKey> schema = {{"model.dropout", "float"}, {"memory.dropout", "float"}, {"model.width", "int"}};
  const std::string msg = error_of({"x", "--dropout", "0.1"}, {"set"}, schema);
  EXPECT_NE(msg.find("ambiguous"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--model.dropout"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--memory.dropout"), std::string::npos) << msg;
  auto t = translate_seed_flags({"x", "--memory.dropout", "0.1", "--width", "3"}, {"set"}, schema);
  EXPECT_EQ(t.assignments, (std::vector<FlagAssignment>{{"memory.dropout", "0.1", "--memory.dropout"},
                                                         {"model.width", "3", "--width"}}));
  // The suggestions for a near miss spell ambiguous names in full.
  const std::string near = error_of({"x", "--dropuot", "0.1"}, {"set"}, schema);
  EXPECT_NE(near.find("--model.dropout"), std::string::npos) << near;
}

TEST(SeedFlags, FlagsWithoutTheirValueFail) {
  EXPECT_NE(error_of({"x", "--hidden_dim"}, kVerifyOptions, real_schema()).find("--hidden_dim (model.hidden_dim) expects a value"),
            std::string::npos);
  EXPECT_NE(error_of({"x", "--hidden_dim", "--dump"}, kVerifyOptions, real_schema()).find("expects a value"), std::string::npos);
  EXPECT_NE(error_of({"x", "--attention_list", "--dump"}, kVerifyOptions, real_schema()).find("one or more values"),
            std::string::npos);
}

TEST(SeedFlags, AssignmentsSetTheConfigThroughTheCApi) {
  auto t = translate_seed_flags({"x", "--attention_list", "causal", "infini", "ssm", "--use_qk_norm", "--n_kv_group", "2",
                                 "--base_model_lr", "3e-4"},
                                kVerifyOptions, real_schema());
  memtx_context* ctx = nullptr;
  check(memtx_context_create(nullptr, &ctx));
  memtx_config* cfg = nullptr;
  check(memtx_config_create(ctx, &cfg));
  for (const auto& a : t.assignments) check(memtx_config_set(cfg, a.key.c_str(), a.value.c_str()));
  auto get = [&](const char* key) {
    char* text = nullptr;
    check(memtx_config_get(cfg, key, &text));
    return take_string(text);
  };
  EXPECT_EQ(get("attention.attention_list"), "[causal, infini, ssm]");
  EXPECT_EQ(get("attention.use_qk_norm"), "true");
  EXPECT_EQ(get("attention.n_kv_group"), "2");
  EXPECT_EQ(get("training.base_model_lr"), "3e-4");
  // A bool flag given 0 reaches memtx_config_set, which names the key.
  memtx_status* st = memtx_config_set(cfg, "attention.use_qk_norm", "0");
  ASSERT_NE(st, nullptr);
  EXPECT_NE(std::string(memtx_status_message(st)).find("use_qk_norm"), std::string::npos);
  memtx_status_free(st);
  memtx_config_free(cfg);
  memtx_context_free(ctx);
}

TEST(SeedFlags, NearestNamesRankByEditDistance) {
  // A swap costs one edit: n_kv_group (1) ranks before the earlier candidate n_kv_groups (2); n_heads is too far.
  EXPECT_EQ(nearest_names("n_kv_gruop", {"n_kv_groups", "n_heads", "n_kv_group"}), (Strings{"n_kv_group", "n_kv_groups"}));
  EXPECT_EQ(nearest_names("xyz", {"hidden_dim"}), Strings{});
  EXPECT_EQ(nearest_names("n_kv_gruop", {"model.n_kv_group", "attention.n_kv_group"}, 1), Strings{"model.n_kv_group"});
}

TEST(SeedFlags, AMegabyteFlagIsRefusedInLinearTime) {
  // Each candidate used to be compared character by character: 1 MB x every key of the schema, minutes. The length
  // gap now rules them all out first. The bound is generous (a hang guard, not a speed claim).
  const auto start = std::chrono::steady_clock::now();
  const std::string msg = error_of({"verify-config", "--" + std::string(1 << 20, 'q'), "1"}, kVerifyOptions, real_schema());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(msg.find("unknown option"), std::string::npos) << msg.substr(0, 200);
  EXPECT_EQ(msg.find("did you mean"), std::string::npos);
  EXPECT_LT(seconds, memtx_test::hang_guard_seconds(10.0));
  EXPECT_EQ(nearest_names(std::string(1 << 20, 'q'), {"hidden_dim", "model.hidden_dim"}), Strings{});
}

}  // namespace
}  // namespace memtx_cli
