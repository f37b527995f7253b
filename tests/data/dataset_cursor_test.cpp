// tests/data/dataset_cursor_test.cpp: saving and restoring the data cursor gives exactly the batches an
// uninterrupted run sees (mid-epoch and across epoch boundaries, through JSON), and refuses other data.
#include "data/dataset.hpp"
#include "dataset_support.hpp"

using namespace memtx::data;
using dataset_test::TempDir;
using dataset_test::TestTokenizer;

namespace {

std::shared_ptr<const PackedDataset> corpus(uint64_t seed = 3) {
  std::vector<Document> docs;
  for (int d = 0; d < 40; ++d) {
    Document doc;
    for (int i = 0; i < 5 + (d * 7) % 23; ++i) {
      doc.tokens.push_back(d * 100 + i);
      doc.mask.push_back(1);
    }
    docs.push_back(doc);
  }
  PackingOptions o;
  o.max_length = 15;
  o.eos_id = 9999;
  o.seed = seed;
  return std::make_shared<const PackedDataset>(docs, o);
}

}  // namespace

TEST(DatasetCursor, RestoreGivesIdenticalBatches) {
  auto data = corpus();
  const int64_t per_epoch = data->windows_per_epoch();
  ASSERT_GT(per_epoch, 10);
  for (int stop : {0, 1, 3, 7, 11}) {  // stop points mid-epoch, at and across epoch boundaries
    BatchIterator full(data);
    std::vector<Batch> reference;
    for (int i = 0; i < 20; ++i) reference.push_back(full.next_batch(3));

    BatchIterator first(data);
    for (int i = 0; i < stop; ++i) EXPECT_EQ(first.next_batch(3).tokens, reference[static_cast<size_t>(i)].tokens);
    const std::string saved = first.cursor().to_json();

    BatchIterator resumed(corpus());  // a fresh process: rebuilt data, restored cursor
    resumed.restore(Cursor::from_json(saved));
    EXPECT_EQ(resumed.cursor(), first.cursor());
    for (int i = stop; i < 20; ++i) {
      const Batch b = resumed.next_batch(3);
      EXPECT_EQ(b.tokens, reference[static_cast<size_t>(i)].tokens) << "stop " << stop << " batch " << i;
      EXPECT_EQ(b.mask, reference[static_cast<size_t>(i)].mask);
      EXPECT_EQ(b.epoch, reference[static_cast<size_t>(i)].epoch);
    }
    EXPECT_EQ(resumed.epoch(), full.epoch());
  }
}

TEST(DatasetCursor, JsonRoundTripAndErrors) {
  auto data = corpus();
  BatchIterator it(data, 4);
  it.next_batch(5);
  it.next_batch(5);
  const Cursor c = it.cursor();
  EXPECT_EQ(c.index, 10 % data->windows_per_epoch());
  EXPECT_EQ(Cursor::from_json(c.to_json()), c);
  dataset_test::error_of([] { Cursor::from_json("{\"epoch\": 1}"); }, memtx::StatusCode::InvalidArgument);
  dataset_test::error_of([] { Cursor::from_json("not json"); }, memtx::StatusCode::InvalidArgument);
  BatchIterator other(corpus(4));  // another seed: another fingerprint
  DS_EXPECT_CONTAINS(dataset_test::error_of([&] { other.restore(c); }, memtx::StatusCode::InvalidArgument),
                     "fingerprint");
  Cursor outside = c;
  outside.index = data->windows_per_epoch();
  dataset_test::error_of([&] { it.restore(outside); }, memtx::StatusCode::InvalidArgument);
}

TEST(DatasetCursor, ThroughTheConfig) {
  TempDir dir;
  std::string lines;
  for (int i = 0; i < 50; ++i) lines += "{\"text\": \"document number " + std::to_string(i) + " says hello\"}\n";
  dir.write("ds/train.jsonl", lines);
  TestTokenizer tok;
  auto c = dataset_test::config();
  c.set("training.dataset_name", (dir.path() / "ds").string());
  c.set("training.text_field", std::vector<std::string>{"text"});
  c.set("training.max_length", 64);
  c.set("training.data_seed", 5);
  c.set("training.num_epochs", 2);
  auto a = make_batch_iterator(c, tok, Split::Train);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->num_epochs(), 2);
  std::vector<Batch> reference;
  while (true) {
    Batch b = a->next_batch(4);
    if (b.empty()) break;
    reference.push_back(std::move(b));
  }
  EXPECT_EQ(static_cast<int64_t>(reference.size()), *a->total_batches(4));
  auto b = make_batch_iterator(c, tok, Split::Train);
  for (int i = 0; i < 5; ++i) b->next_batch(4);
  const std::string saved = b->cursor().to_json();
  auto resumed = make_batch_iterator(c, tok, Split::Train);
  resumed->restore(Cursor::from_json(saved));
  for (size_t i = 5; i < reference.size(); ++i) EXPECT_EQ(resumed->next_batch(4).tokens, reference[i].tokens);
  EXPECT_TRUE(resumed->next_batch(4).empty());
  // Eval: one pass in file order, held out from train (a folder with no test split).
  auto eval = make_batch_iterator(c, tok, Split::Eval);
  ASSERT_NE(eval, nullptr);
  EXPECT_EQ(eval->num_epochs(), 1);
  EXPECT_FALSE(eval->data().options().shuffle);
}
