// tests/data/dataset_split_test.cpp: evaluation data: split files, the deterministic held-out fraction
// (independent of data_seed), a single .txt file's tail cut at a paragraph, and eval_split null.
#include <set>

#include "data/dataset.hpp"
#include "data/dataset_split.hpp"
#include "dataset_support.hpp"

using namespace memtx::data;
using dataset_test::TempDir;
using dataset_test::TestTokenizer;

namespace {

std::vector<Record> numbered(int n) {
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) {
    Record r;
    r.text = "doc " + std::to_string(i);
    out.push_back(r);
  }
  return out;
}

std::vector<std::string> texts(const std::vector<Record>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(r.text);
  return out;
}

std::string decode_all(const TestTokenizer& tok, const std::vector<Document>& docs) {
  std::string out;
  for (const auto& d : docs) out += tok.decode(d.tokens) + "|";
  return out;
}

}  // namespace

TEST(DatasetSplit, HeldOutFractionIsDeterministicDisjointAndComplete) {
  const HeldOut a = hold_out(numbered(200), 0.05);
  const HeldOut b = hold_out(numbered(200), 0.05);
  EXPECT_EQ(a.eval.size(), 10u);
  EXPECT_EQ(a.train.size(), 190u);
  EXPECT_EQ(texts(a.eval), texts(b.eval));
  EXPECT_EQ(texts(a.train), texts(b.train));
  std::set<std::string> all;
  for (const auto& t : texts(a.train)) all.insert(t);
  for (const auto& t : texts(a.eval)) EXPECT_TRUE(all.insert(t).second) << t << " is in both parts";
  EXPECT_EQ(all.size(), 200u);
  // Both parts keep the file order.
  auto index = [](const std::string& t) { return std::stoi(t.substr(4)); };
  for (size_t i = 1; i < a.eval.size(); ++i) EXPECT_LT(index(a.eval[i - 1].text), index(a.eval[i].text));
  // Not simply the first or last documents.
  EXPECT_NE(texts(a.eval), texts(numbered(10)));
}

TEST(DatasetSplit, HeldOutCountBounds) {
  EXPECT_EQ(hold_out(numbered(3), 0.05).eval.size(), 1u);   // at least one
  EXPECT_EQ(hold_out(numbered(2), 0.9).eval.size(), 1u);    // at most n - 1
  EXPECT_EQ(hold_out(numbered(40), 0.0).eval.size(), 0u);   // fraction 0: none
  EXPECT_EQ(hold_out(numbered(40), 0.25).eval.size(), 10u);
}

TEST(DatasetSplit, SingleTextIsCutAtAParagraph) {
  std::string text;
  for (int i = 0; i < 20; ++i) text += "Paragraph " + std::to_string(i) + " has some words in it.\n\n";
  auto [head, tail] = split_text_tail(text, 0.1);
  EXPECT_EQ(head + tail, text);
  EXPECT_EQ(tail.rfind("Paragraph 18", 0), 0u) << tail;  // the last two of twenty paragraphs
  EXPECT_EQ(head.substr(head.size() - 2), "\n\n");
  // Without separators: cut at the byte, on a UTF-8 boundary.
  auto [h2, t2] = split_text_tail("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 0.3);
  EXPECT_EQ(h2 + t2, "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9");
  EXPECT_EQ(h2.size() % 2, 0u);
  EXPECT_FALSE(t2.empty());
  EXPECT_TRUE(split_text_tail(text, 0.0).second.empty());
}

TEST(DatasetSplit, SingleTxtFileThroughTheConfig) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 20; ++i) text += "Paragraph " + std::to_string(i) + ".\n\n";
  const auto f = dir.write("book.txt", text);
  TestTokenizer tok;
  auto c = dataset_test::config();
  c.set("training.dataset_name", f.string());
  c.set("training.eval_fraction", 0.1);
  const auto train = load_documents(c, tok, Split::Train);
  const auto eval = load_documents(c, tok, Split::Eval);
  ASSERT_EQ(train.size(), 1u);
  ASSERT_EQ(eval.size(), 1u);
  EXPECT_EQ(tok.decode(train[0].tokens) + tok.decode(eval[0].tokens), text);
  EXPECT_EQ(tok.decode(eval[0].tokens), "Paragraph 18.\n\nParagraph 19.\n\n");
}

TEST(DatasetSplit, HeldOutThroughTheConfigIgnoresDataSeed) {
  TempDir dir;
  std::string lines;
  for (int i = 0; i < 60; ++i) lines += "{\"text\": \"record " + std::to_string(i) + "\"}\n";
  const auto f = dir.write("all.jsonl", lines);
  TestTokenizer tok;
  auto c = dataset_test::config();
  c.set("training.dataset_name", f.string());
  c.set("training.text_field", std::vector<std::string>{"text"});
  c.set("training.eval_fraction", 0.1);
  const auto eval1 = decode_all(tok, load_documents(c, tok, Split::Eval));
  const auto train1 = decode_all(tok, load_documents(c, tok, Split::Train));
  c.set("training.data_seed", 99);
  EXPECT_EQ(decode_all(tok, load_documents(c, tok, Split::Eval)), eval1);
  EXPECT_EQ(decode_all(tok, load_documents(c, tok, Split::Train)), train1);
  EXPECT_EQ(load_documents(c, tok, Split::Eval).size(), 6u);
  EXPECT_EQ(load_documents(c, tok, Split::Train).size(), 54u);
  c.set("training.eval_split", memtx::Value());  // no evaluation: every record trains
  EXPECT_EQ(load_documents(c, tok, Split::Train).size(), 60u);
  EXPECT_TRUE(load_documents(c, tok, Split::Eval).empty());
  EXPECT_EQ(make_batch_iterator(c, tok, Split::Eval), nullptr);
}

TEST(DatasetSplit, EvalSplitFilesAreUsedWhole) {
  TempDir dir;
  dir.write("ds/train.txt", "training text");
  dir.write("ds/test.jsonl", "{\"text\": \"t1\"}\n{\"text\": \"t2\"}\n");
  TestTokenizer tok;
  auto c = dataset_test::config();
  c.set("training.dataset_name", (dir.path() / "ds").string());
  c.set("training.text_field", std::vector<std::string>{"text"});
  EXPECT_EQ(decode_all(tok, load_documents(c, tok, Split::Train)), "training text|");
  EXPECT_EQ(decode_all(tok, load_documents(c, tok, Split::Eval)), "t1|t2|");
}
