// tests/data/dataset_hostile_test.cpp: sizes a stranger could use to overflow or exhaust memory in the data
// layer: a batch whose rows x window product overflows 64 bits or passes kMaxBatchTokens (refused before any
// buffer is sized), an absurd epoch count (total_batches saturates), and a dataset file over its 4 GiB limit
// (refused from its size, before reading; the test file is sparse).
#include <filesystem>

#include "data/dataset_records.hpp"
#include "data/packing_iterator.hpp"
#include "data/synthetic.hpp"
#include "dataset_support.hpp"

using namespace memtx::data;

namespace {

std::shared_ptr<const PackedDataset> small_data() {
  Document doc;
  for (int i = 0; i < 30; ++i) {
    doc.tokens.push_back(i);
    doc.mask.push_back(1);
  }
  PackingOptions o;
  o.max_length = 10;  // windows of 11 tokens
  o.pad_id = 0;
  return std::make_shared<const PackedDataset>(std::vector<Document>{doc}, o);
}

TEST(DatasetHostile, BatchSizesThatOverflowAreRefusedBeforeSizing) {
  BatchIterator it(small_data());
  const int64_t wraps = (int64_t{1} << 62) / 11 * 4;  // x 11 passes 2^63
  std::string msg = dataset_test::error_of([&] { it.next_batch(wraps); }, memtx::StatusCode::InvalidArgument);
  EXPECT_NE(msg.find("rows of 11 tokens is more than the limit of 4398046511104 tokens"), std::string::npos) << msg;
  msg = dataset_test::error_of([&] { it.next_batch(int64_t{1} << 40); }, memtx::StatusCode::InvalidArgument);
  EXPECT_NE(msg.find("a batch of 1099511627776 rows"), std::string::npos) << msg;
  EXPECT_EQ(it.next_batch(2).batch, 2);  // the iterator is still usable
}

TEST(DatasetHostile, TotalBatchesSaturatesForAbsurdEpochCounts) {
  BatchIterator it(small_data(), INT64_MAX / 2);
  const auto total = it.total_batches(1);
  ASSERT_TRUE(total.has_value());
  EXPECT_EQ(*total, INT64_MAX);
}

TEST(DatasetHostile, DataFileOverItsLimitIsRefusedBeforeReading) {
  memtx_test::TempDir dir;
  for (const char* name : {"huge.txt", "huge.jsonl", "huge.json"}) {
    const std::filesystem::path p = dir.path() / name;
    std::ofstream(p).put('x');
    std::filesystem::resize_file(p, (uint64_t{4} << 30) + 1);  // sparse: no disk used
    const std::string msg = dataset_test::error_of([&] { read_records(p, {"text"}); }, memtx::StatusCode::Io);
    EXPECT_NE(msg.find("4294967297 bytes, more than the limit of 4 GiB for a data file"), std::string::npos) << msg;
  }
}

TEST(DatasetHostile, SyntheticDatasetsLargerThanMemoryAreRefusedBeforeGenerating) {
  const auto tokenizer = std::make_shared<dataset_test::TestTokenizer>();
  auto spec = parse_synthetic_name("synthetic:passkey?examples=1099511627776&length=1099511627776");
  ASSERT_TRUE(spec.has_value());
  std::string msg = dataset_test::error_of(
      [&] { synthetic_documents(*tokenizer, *spec, spec->examples, 0, 128, false); }, memtx::StatusCode::Config);
  EXPECT_NE(msg.find("1099511627776 examples of at least 1099511627776 tokens each exceed the 268435456 tokens"),
            std::string::npos) << msg;
  spec = parse_synthetic_name("synthetic:associative_recall?examples=1000000&pairs=1000&key_length=4");
  msg = dataset_test::error_of(
      [&] { synthetic_documents(*tokenizer, *spec, spec->examples, 0, 128, false); }, memtx::StatusCode::Config);
  EXPECT_NE(msg.find("lower examples="), std::string::npos) << msg;
  spec = parse_synthetic_name("synthetic:passkey?examples=3&length=200");  // a sane request still works
  EXPECT_EQ(synthetic_documents(*tokenizer, *spec, spec->examples, 0, 128, false).size(), 3u);
}

}  // namespace
