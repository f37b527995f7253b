// tests/tokenizer/tokenizer_hostile_test.cpp: tokenizer files a stranger could use to exhaust memory or time:
// a device or FIFO given as the tokenizer (refused before reading), and token ids far past the vocabulary
// (1e8, 3e8), refused naming the id and the bound before any id-indexed table is sized.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <string>

#include "common/error_of.hpp"
#include "common/temp_dir.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/tokenizer_bpe.hpp"

namespace {

using memtx::StatusCode;
using memtx::data::load_tokenizer;
using memtx_test::error_of;
using nlohmann::json;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Peak resident memory of the process so far, in MiB.
long peak_rss_mib() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

// A byte-level BPE tokenizer.json of the 256 byte symbols "b<i>" (ids 0..255) and one added token.
json small_tokenizer(int64_t added_id) {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab["b" + std::to_string(b)] = b;
  return json{{"added_tokens", json::array({{{"id", added_id}, {"content", "<|end|>"}, {"special", true}}})},
              {"pre_tokenizer", {{"type", "ByteLevel"}}},
              {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array()}}}};
}

TEST(TokenizerHostile, DeviceAndFifoAreRefusedBeforeReading) {
  std::string msg = error_of([] { load_tokenizer("/dev/zero"); }, StatusCode::Io);
  EXPECT_TRUE(contains(msg, "tokenizer file '/dev/zero': is a character device, not a regular file")) << msg;
  memtx_test::TempDir dir;
  const std::string fifo = dir.path("tokenizer.json");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  msg = error_of([&] { load_tokenizer(fifo); }, StatusCode::Io);
  EXPECT_TRUE(contains(msg, "is a FIFO (named pipe), not a regular file")) << msg;
}

TEST(TokenizerHostile, HugeIdsAreRefusedBeforeSizingTables) {
  const long before = peak_rss_mib();
  for (const int64_t id : {int64_t{100'000'000}, int64_t{300'000'000}}) {
    std::string msg = error_of([&] { memtx::data::parse_tokenizer_json(small_tokenizer(id).dump(), "t.json"); },
                               StatusCode::Io);
    EXPECT_TRUE(contains(msg, "t.json")) << msg;
    EXPECT_TRUE(contains(msg, "added_tokens[].id is id " + std::to_string(id) + ", out of range: ids must be below 1538"))
        << msg;
    json j = small_tokenizer(256);
    j["model"]["vocab"]["huge"] = id;
    msg = error_of([&] { memtx::data::parse_tokenizer_json(j.dump(), "t.json"); }, StatusCode::Io);
    EXPECT_TRUE(contains(msg, "model.vocab[\"huge\"] is id " + std::to_string(id))) << msg;
  }
  EXPECT_LT(peak_rss_mib() - before, 512) << "MiB allocated while refusing the ids";
  // Dense ids load (the added token right after the vocabulary, or repeating a vocabulary id), and so do a few
  // holes.
  EXPECT_EQ(memtx::data::make_bpe_tokenizer(memtx::data::parse_tokenizer_json(small_tokenizer(256).dump(), "t.json"))
                ->vocab_size(),
            257);
  EXPECT_NO_THROW(memtx::data::parse_tokenizer_json(small_tokenizer(3).dump(), "t.json"));
  EXPECT_NO_THROW(memtx::data::parse_tokenizer_json(small_tokenizer(1537).dump(), "t.json"));
}

}  // namespace
