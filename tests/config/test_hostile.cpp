// tests/config/test_hostile.cpp: configurations a stranger could write to exhaust memory or time, each refused
// with a message naming the key, the file or the limit: sizes past their documented bounds, a batch whose
// token count is too large, device files and FIFOs given as the config, a config over 16 MiB, a megabyte-long
// unknown key (the "did you mean" search stays fast), YAML/JSON nested 10k deep, a YAML alias bomb, and string
// bytes that are not UTF-8 in the dumps (found by fuzz/config_fuzz).
#include <sys/stat.h>

#include <chrono>
#include <string>

#include "common/hang_guard.hpp"
#include "helpers.hpp"

using memtx::Config;
using memtx::StatusCode;
using memtx_test::error_of;
using memtx_test::load;
using memtx_test::shipped;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(ConfigHostile, SizesPastTheirBoundsAreRefused) {
  EXPECT_CONTAINS(error_of([] { load("training:\n  max_length: 4611686018427387904\n"); }),
                  "training.max_length: expected int in [1, 16777216], got 4611686018427387904");
  EXPECT_CONTAINS(error_of([] { load("training:\n  batch_size: 1117984489315730401\n"); }),
                  "training.batch_size: expected int in [1, 1048576]");
  EXPECT_CONTAINS(error_of([] { load("model:\n  num_layers: 1000000000\n"); }),
                  "model.num_layers: expected int in [1, 4096], got 1000000000");
  EXPECT_CONTAINS(error_of([] { load("model:\n  num_layers: 1e9\n"); }), "model.num_layers: expected int in [1, 4096]");
  EXPECT_CONTAINS(error_of([] { load("model:\n  hidden_dim: 1e9\n"); }), "model.hidden_dim: expected int in [1, 65536]");
  EXPECT_CONTAINS(error_of([] { load("model:\n  vocab_size: 100000000\n"); }), "model.vocab_size");
  Config c = memtx_test::defaults();
  EXPECT_CONTAINS(error_of([&] { c.set("model.intermediate_dim", int64_t{1} << 40); }), "model.intermediate_dim");
  EXPECT_CONTAINS(error_of([&] { c.apply_override("attention.ssm_d_state=1e12"); }), "attention.ssm_d_state");
  // The bounds are generous: a large real model loads.
  EXPECT_NO_THROW(load("model:\n  num_layers: 126\n  hidden_dim: 16384\n  vocab_size: 152064\n"
                       "training:\n  max_length: 131072\n  batch_size: 8\n"));
}

TEST(ConfigHostile, TokensOfAMicroBatchAreBounded) {
  Config c = load("training:\n  batch_size: 65536\n  max_length: 65536\n");
  EXPECT_CONTAINS(error_of([&] { c.validate(); }),
                  "training.batch_size (65536) x training.max_length (65536) tokens per micro-batch is more than the "
                  "limit of 1073741824");
}

TEST(ConfigHostile, DevicesAndFifosAreRefusedBeforeReading) {
  std::string msg = error_of([] { Config::from_file(shipped(), "/dev/zero"); }, StatusCode::Io);
  EXPECT_CONTAINS(msg, "config file '/dev/zero': is a character device, not a regular file");
  memtx_test::TempDir dir;
  const std::string fifo = dir.path("config.yaml");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  msg = error_of([&] { Config::from_file(shipped(), fifo); }, StatusCode::Io);
  EXPECT_CONTAINS(msg, "is a FIFO (named pipe), not a regular file");
}

TEST(ConfigHostile, ConfigOverSixteenMebibytesIsRefused) {
  memtx_test::TempDir dir;
  const std::string big = dir.write("big.yaml", "# " + std::string((16u << 20) + 10, 'x') + "\n").string();
  const std::string msg = error_of([&] { Config::from_file(shipped(), big); }, StatusCode::Io);
  EXPECT_CONTAINS(msg, "more than the limit of 16 MiB for a config file");
}

TEST(ConfigHostile, MegabyteUnknownKeyIsAnsweredFast) {
  const std::string name(1 << 20, 'q');
  auto start = std::chrono::steady_clock::now();
  // An explicit key ("? key"): YAML's plain keys stop at 1024 characters.
  std::string msg = error_of([&] { load("training:\n  ? " + name + "\n  : 1\n"); });
  EXPECT_CONTAINS(msg, "unknown key 'training.qqqq");
  EXPECT_CONTAINS(msg, "... (1048585 bytes)'");
  EXPECT_LT(msg.size(), 1000u);
  msg = error_of([&] { load("? " + name + "\n: 1\n"); });  // an unknown section
  EXPECT_CONTAINS(msg, "(1048576 bytes)");
  Config c = memtx_test::defaults();
  EXPECT_CONTAINS(error_of([&] { c.set("model." + name, int64_t{1}); }), "unknown key 'model.qqqq");
  EXPECT_CONTAINS(error_of([&] { c.apply_override(name + "=1"); }), "unknown key 'qqqq");
  EXPECT_TRUE(shipped()->nearest_key("model." + name).empty());
  EXPECT_LT(seconds_since(start), memtx_test::hang_guard_seconds(5.0));
  // Near keys are still suggested.
  EXPECT_CONTAINS(error_of([] { load("model:\n  hiden_dim: 8\n"); }), "did you mean 'model.hidden_dim'?");
}

TEST(ConfigHostile, DeepNestingIsRefused) {
  const std::string open(10000, '['), close(10000, ']');
  auto from = [](const std::string& text, const std::string& origin) { Config::from_string(shipped(), text, origin); };
  std::string msg = error_of([&] { from("model:\n  hidden_dim: " + open + close + "\n", "deep.yaml"); });
  EXPECT_CONTAINS(msg, "deep.yaml:2: lists and mappings nested more than 64 levels deep");
  msg = error_of([&] { from("{\"model\": {\"hidden_dim\": " + open + close + "}}", "deep.json"); });
  EXPECT_CONTAINS(msg, "deep.json:1: lists and mappings nested more than 64 levels deep");
  std::string block = "model:\n";  // block style, indentation-nested
  for (int i = 0; i < 200; ++i) block += std::string(2 * (i + 1), ' ') + "k:\n";
  EXPECT_CONTAINS(error_of([&] { from(block, "block.yaml"); }), "nested more than 64 levels");
}

TEST(ConfigHostile, AliasBombIsRefusedNotExpanded) {
  // Ten levels of ten aliases each: 10^10 values once expanded.
  std::string items = "&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]";
  for (int i = 1; i < 10; ++i) {
    items += ", &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) items += (j ? ", *a" : "*a") + std::to_string(i - 1);
    items += "]";
  }
  auto start = std::chrono::steady_clock::now();
  const std::string text = "attention:\n  attention_list: [" + items + "]\n";
  const std::string msg = error_of([&] { Config::from_string(shipped(), text, "bomb.yaml"); });
  EXPECT_CONTAINS(msg, "bomb.yaml:2: the document has more than 100000 values");
  EXPECT_LT(seconds_since(start), memtx_test::hang_guard_seconds(5.0));
  // Aliases themselves stay allowed.
  Config c = load("model:\n  num_heads: &h 4\nattention:\n  n_kv_group: *h\n");
  EXPECT_EQ(c.get_opt_int("attention.n_kv_group"), 4);
}

// fuzz/regressions/config/invalid_utf8_string_dump.yaml: a string value holding bytes that are not UTF-8 (a path
// may: training.output_dir is bytes on POSIX) dumped as YAML with U+FFFD in their place but as JSON not at all (a
// raw nlohmann type_error 316, INTERNAL at the C API). Both dumps now write U+FFFD and read back as that text.
TEST(ConfigHostile, BytesThatAreNotUtf8DumpAsReplacementCharacters) {
  const std::string bytes = "trai\xff\xffn", shown = "trai\xef\xbf\xbd\xef\xbf\xbdn";
  Config c = load("training:\n  dataset_split: " + bytes + "\n");
  EXPECT_EQ(c.get_string("training.dataset_split"), bytes);  // the value itself is kept as given
  // An overlong form, a surrogate, a code point past U+10FFFF, a lone continuation byte, a cut sequence.
  c.set("training.text_field",
        std::vector<std::string>{"\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80", "ab\xe2\x82"});
  const std::string f = "\xef\xbf\xbd";
  const std::vector<std::string> replaced = {f + f, f + f + f, f + f + f + f, f, "ab" + f + f};
  for (const std::string& text : {c.to_yaml(), c.to_json()}) {
    const Config back = load(text);
    EXPECT_EQ(back.get_string("training.dataset_split"), shown);
    EXPECT_EQ(back.get_string_list("training.text_field"), replaced);
  }
  // UTF-8 text of every length dumps and reads back unchanged.
  const std::string text = "caf\xc3\xa9 \xe6\x96\x87\xe6\x9c\xac \xf0\x9f\x98\x80";
  c = load("training:\n  dataset_split: " + text + "\n");
  EXPECT_EQ(load(c.to_yaml()).get_string("training.dataset_split"), text);
  EXPECT_EQ(load(c.to_json()).get_string("training.dataset_split"), text);
}

}  // namespace
