// tests/data/dataset_packing_test.cpp: packing documents into windows of max_length + 1 tokens: every
// token exactly once per epoch, eos after each document, inputs/targets shifted by one, masks carried,
// padding, per-epoch shuffling, epoch counting.
#include <map>

#include "data/packing_iterator.hpp"
#include "dataset_support.hpp"

using namespace memtx::data;

namespace {

constexpr int64_t kEos = 1000, kPad = 2000;

// Documents whose tokens are unique ids (100 * (doc + 1) + position), each masked on odd positions.
std::vector<Document> make_docs(const std::vector<int>& lengths) {
  std::vector<Document> docs;
  for (size_t d = 0; d < lengths.size(); ++d) {
    Document doc;
    for (int i = 0; i < lengths[d]; ++i) {
      doc.tokens.push_back(static_cast<int64_t>(100 * (d + 1) + static_cast<size_t>(i)));
      doc.mask.push_back(static_cast<uint8_t>(i % 2));
    }
    docs.push_back(doc);
  }
  return docs;
}

PackingOptions options(int64_t max_length, bool shuffle = true, uint64_t seed = 7) {
  PackingOptions o;
  o.max_length = max_length;
  o.eos_id = kEos;
  o.pad_id = kPad;
  o.seed = seed;
  o.shuffle = shuffle;
  return o;
}

std::vector<std::vector<int64_t>> rows_of(const Batch& b) {
  std::vector<std::vector<int64_t>> rows;
  const int64_t w = b.length + 1;
  for (int64_t r = 0; r < b.batch; ++r) rows.emplace_back(b.tokens.begin() + r * w, b.tokens.begin() + (r + 1) * w);
  return rows;
}

}  // namespace

TEST(DatasetPacking, EveryTokenExactlyOncePerEpoch) {
  const std::vector<int> lengths = {5, 17, 1, 30, 8, 12, 3};  // 76 tokens + 7 eos = 83
  auto data = std::make_shared<const PackedDataset>(make_docs(lengths), options(9));
  EXPECT_EQ(data->num_tokens(), 83);
  EXPECT_EQ(data->window_length(), 10);
  EXPECT_EQ(data->windows_per_epoch(), 9);  // ceil(83 / 10)
  BatchIterator it(data, 3);
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::map<int64_t, int> seen;
    int pads = 0;
    int64_t rows = 0;
    while (rows < data->windows_per_epoch()) {
      const Batch b = it.next_batch(std::min<int64_t>(4, data->windows_per_epoch() - rows));
      ASSERT_EQ(b.length, 9);
      for (size_t i = 0; i < b.tokens.size(); ++i) {
        if (b.tokens[i] == kPad) {
          ++pads;
          EXPECT_EQ(b.mask[i], 0);
        } else {
          ++seen[b.tokens[i]];
        }
      }
      rows += b.batch;
    }
    EXPECT_EQ(pads, 90 - 83) << "epoch " << epoch;
    EXPECT_EQ(seen[kEos], static_cast<int>(lengths.size()));
    seen.erase(kEos);
    EXPECT_EQ(seen.size(), 76u);
    for (const auto& [tok, n] : seen) EXPECT_EQ(n, 1) << "token " << tok << " epoch " << epoch;
  }
  EXPECT_TRUE(it.exhausted());
  EXPECT_TRUE(it.next_batch(4).empty());
}

TEST(DatasetPacking, WindowsFollowTheStreamInFileOrderWithoutShuffle) {
  auto data = std::make_shared<const PackedDataset>(make_docs({4, 6}), options(3, /*shuffle=*/false));
  // Stream: 100 101 102 103 EOS 200 201 202 203 204 205 EOS  (12 tokens) -> 3 windows of 4.
  BatchIterator it(data, 1);
  const Batch b = it.next_batch(8);
  ASSERT_EQ(b.batch, 3);
  const auto rows = rows_of(b);
  EXPECT_EQ(rows[0], (std::vector<int64_t>{100, 101, 102, 103}));
  EXPECT_EQ(rows[1], (std::vector<int64_t>{kEos, 200, 201, 202}));
  EXPECT_EQ(rows[2], (std::vector<int64_t>{203, 204, 205, kEos}));
  // Masks travel with their tokens; eos takes the mask of the document's last token.
  EXPECT_EQ(std::vector<uint8_t>(b.mask.begin(), b.mask.begin() + 4), (std::vector<uint8_t>{0, 1, 0, 1}));
  EXPECT_EQ(b.mask[4], 1);   // eos after doc 0, whose last token (position 3) is counted
  EXPECT_EQ(b.mask[11], 1);  // eos after doc 1 (last position 5, counted)
  EXPECT_EQ(b.mask[5], 0);   // 200
}

TEST(DatasetPacking, InputsAndTargetsAreTheWindowShiftedByOne) {
  auto data = std::make_shared<const PackedDataset>(make_docs({25}), options(7, false));
  BatchIterator it(data, 1);
  const Batch b = it.next_batch(2);
  const int64_t w = b.length + 1;
  for (int64_t r = 0; r < b.batch; ++r) {
    const int64_t* row = b.tokens.data() + r * w;
    const std::vector<int64_t> inputs(row, row + b.length), targets(row + 1, row + w);
    for (int64_t t = 0; t + 1 < b.length; ++t) EXPECT_EQ(inputs[static_cast<size_t>(t + 1)], targets[static_cast<size_t>(t)]);
    for (int64_t t = 0; t < b.length; ++t) EXPECT_EQ(targets[static_cast<size_t>(t)], inputs[static_cast<size_t>(t)] + 1);
  }
  // Consecutive windows do not overlap: the next row starts where the previous one ended.
  EXPECT_EQ(b.tokens[static_cast<size_t>(w)], b.tokens[static_cast<size_t>(w - 1)] + 1);
}

TEST(DatasetPacking, EpochsReshuffleDeterministically) {
  auto docs = make_docs({7, 7, 7, 7, 7, 7, 7, 7, 7, 7});
  auto a = std::make_shared<const PackedDataset>(docs, options(7));
  auto b = std::make_shared<const PackedDataset>(docs, options(7));
  auto other_seed = std::make_shared<const PackedDataset>(docs, options(7, true, 8));
  BatchIterator ia(a), ib(b), ic(other_seed);
  const auto e0 = ia.next_batch(10), e1 = ia.next_batch(10);
  EXPECT_EQ(e0.tokens, ib.next_batch(10).tokens);  // same seed: same order
  EXPECT_EQ(e1.tokens, ib.next_batch(10).tokens);
  EXPECT_NE(e0.tokens, e1.tokens);                 // a new order every epoch
  EXPECT_NE(e0.tokens, ic.next_batch(10).tokens);  // another seed: another order
  EXPECT_EQ(e0.epoch, 0);
  EXPECT_EQ(e1.epoch, 1);
  EXPECT_EQ(ia.epoch(), 2);
}

TEST(DatasetPacking, BatchesSpanEpochsAndStopAfterNumEpochs) {
  auto data = std::make_shared<const PackedDataset>(make_docs({10, 10, 10}), options(10));  // 33 tokens -> 3 windows
  ASSERT_EQ(data->windows_per_epoch(), 3);
  BatchIterator it(data, 2);
  EXPECT_EQ(it.total_batches(4), 2);  // ceil(6 / 4)
  const Batch first = it.next_batch(4);
  EXPECT_EQ(first.batch, 4);
  EXPECT_EQ(it.epoch(), 1);
  const Batch last = it.next_batch(4);
  EXPECT_EQ(last.batch, 2);  // short final batch
  EXPECT_EQ(last.tokens.size(), 2u * 11);
  EXPECT_TRUE(it.exhausted());
  EXPECT_EQ(it.next_batch(4).batch, 0);
  BatchIterator forever(data);
  EXPECT_FALSE(forever.total_batches(4).has_value());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(forever.next_batch(4).batch, 4);
  EXPECT_EQ(forever.epoch(), 13);  // 40 windows / 3 per epoch
}

TEST(DatasetPacking, EmptyDocumentsAreDroppedAndNoTokensIsAnError) {
  auto docs = make_docs({3, 0, 2});
  PackedDataset data(docs, options(4));
  EXPECT_EQ(data.num_documents(), 2);
  EXPECT_EQ(data.num_tokens(), 7);
  dataset_test::error_of([] { PackedDataset(make_docs({0, 0}), options(4)); }, memtx::StatusCode::InvalidArgument);
  dataset_test::error_of([] { PackedDataset(make_docs({3}), options(0)); }, memtx::StatusCode::InvalidArgument);
  PackingOptions no_eos = options(4);
  no_eos.eos_id.reset();
  EXPECT_EQ(PackedDataset(make_docs({3, 2}), no_eos).num_tokens(), 5);
}
