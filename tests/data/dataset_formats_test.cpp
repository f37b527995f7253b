// tests/data/dataset_formats_test.cpp: reading .txt, .jsonl and .json files; text_field as one field, a list
// of fields, or a chat message list; loss masks per training_mode; errors naming the file and line.
#include "data/dataset.hpp"
#include "data/dataset_records.hpp"
#include "dataset_support.hpp"

using namespace memtx::data;
using dataset_test::bytes;
using dataset_test::TempDir;
using dataset_test::TestTokenizer;
using memtx::StatusCode;
using Strs = std::vector<std::string>;

TEST(DatasetFormats, TxtFileIsOneDocument) {
  TempDir dir;
  const auto f = dir.write("book.txt", "\xEF\xBB\xBFPara one.\n\nPara two.\n");
  const auto recs = read_records(f, {"text"});
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].text, "Para one.\n\nPara two.\n");  // byte-order mark dropped, text kept whole
  EXPECT_FALSE(recs[0].chat);
  EXPECT_EQ(recs[0].origin, f.string());
}

TEST(DatasetFormats, JsonlOneRecordPerLine) {
  TempDir dir;
  const auto f = dir.write("d.jsonl", "{\"text\": \"alpha\", \"id\": 1}\n\n  \n{\"text\": \"beta\"}\r\n{\"text\": null}\n");
  const auto recs = read_records(f, {"text"});
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].text, "alpha");
  EXPECT_EQ(recs[1].text, "beta");
  EXPECT_EQ(recs[2].text, "");  // null reads as empty
  EXPECT_EQ(recs[1].origin, f.string() + ":4");
}

TEST(DatasetFormats, JsonArrayOfObjects) {
  TempDir dir;
  const auto f = dir.write("d.json", R"([{"body": "one"}, {"body": "two"}])");
  const auto recs = read_records(f, {"body"});
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].text, "two");
  EXPECT_EQ(recs[1].origin, f.string() + "[1]");
}

TEST(DatasetFormats, SeveralFieldsJoinedWithBlankLines) {
  TempDir dir;
  const auto f = dir.write("a.jsonl",
                           R"({"instruction": "Add.", "input": "1+1", "output": "2"})"
                           "\n"
                           R"({"instruction": "Greet.", "input": "", "output": "hello"})"
                           "\n");
  const auto recs = read_records(f, {"instruction", "input", "output"});
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(record_text(recs[0]), "Add.\n\n1+1\n\n2");
  EXPECT_EQ(record_text(recs[1]), "Greet.\n\nhello");  // an empty field is skipped

  TestTokenizer tok;
  PieceEncoder enc(tok);
  const Document ift = tokenize_record(enc, recs[0], true);
  EXPECT_EQ(ift.tokens, bytes("Add.\n\n1+1\n\n2"));
  std::vector<uint8_t> want(ift.tokens.size(), 0);
  want.back() = 1;  // only the last field ("2") counts in instruction_finetuning
  EXPECT_EQ(ift.mask, want);
  const Document pre = tokenize_record(enc, recs[0], false);
  EXPECT_EQ(pre.mask, std::vector<uint8_t>(pre.tokens.size(), 1));
}

TEST(DatasetFormats, ChatMessagesAndShareGpt) {
  TempDir dir;
  const auto f = dir.write("c.jsonl",
                           R"({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})"
                           "\n"
                           R"({"messages": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]})"
                           "\n");
  const auto recs = read_records(f, {"messages"});
  ASSERT_EQ(recs.size(), 2u);
  ASSERT_TRUE(recs[0].chat);
  EXPECT_EQ(record_text(recs[0]), "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nyo<|im_end|>\n");
  ASSERT_EQ(recs[1].messages.size(), 2u);
  EXPECT_EQ(recs[1].messages[0].role, "user");
  EXPECT_EQ(recs[1].messages[1].role, "assistant");
  EXPECT_EQ(recs[1].messages[1].content, "a");
}

TEST(DatasetFormats, PlainTextCountsEveryTokenInBothModes) {
  Record r;
  r.text = "hello";
  TestTokenizer tok;
  PieceEncoder enc(tok);
  EXPECT_EQ(tokenize_record(enc, r, true).mask, std::vector<uint8_t>(5, 1));
  EXPECT_EQ(tokenize_record(enc, r, false).mask, std::vector<uint8_t>(5, 1));
}

TEST(DatasetFormats, MissingFieldNamesFileLineAndFields) {
  TempDir dir;
  const auto f = dir.write("d.jsonl", "{\"text\": \"ok\"}\n{\"body\": \"x\", \"title\": \"y\"}\n");
  const std::string msg = dataset_test::error_of([&] { read_records(f, {"text"}); }, StatusCode::Config);
  DS_EXPECT_CONTAINS(msg, f.string() + ":2");
  DS_EXPECT_CONTAINS(msg, "no field 'text'");
  DS_EXPECT_CONTAINS(msg, "body, title");
  DS_EXPECT_CONTAINS(msg, "training.text_field");
}

TEST(DatasetFormats, WrongValueTypesAreErrors) {
  TempDir dir;
  const auto num = dir.write("n.jsonl", "{\"text\": 3}\n");
  DS_EXPECT_CONTAINS(dataset_test::error_of([&] { read_records(num, {"text"}); }, StatusCode::Config), "a number");
  const auto bad_msg = dir.write("m.jsonl", "{\"messages\": [{\"role\": \"user\"}]}\n");
  DS_EXPECT_CONTAINS(dataset_test::error_of([&] { read_records(bad_msg, {"messages"}); }, StatusCode::Config),
                     "no 'content'");
  const auto list_in_fields = dir.write("l.jsonl", "{\"a\": \"x\", \"b\": [1]}\n");
  DS_EXPECT_CONTAINS(dataset_test::error_of([&] { read_records(list_in_fields, {"a", "b"}); }, StatusCode::Config),
                     "field 'b' is a list");
}

TEST(DatasetFormats, MalformedJsonIsAnIoError) {
  TempDir dir;
  const auto f = dir.write("d.jsonl", "{\"text\": \"ok\"}\n{\"text\": \n");
  DS_EXPECT_CONTAINS(dataset_test::error_of([&] { read_records(f, {"text"}); }, StatusCode::Io),
                     f.string() + ":2: malformed JSON");
  const auto obj = dir.write("o.json", "{\"text\": \"not an array\"}");
  DS_EXPECT_CONTAINS(dataset_test::error_of([&] { read_records(obj, {"text"}); }, StatusCode::Io),
                     "expected a JSON array");
  const auto scalar = dir.write("s.jsonl", "[1, 2]\n");
  DS_EXPECT_CONTAINS(dataset_test::error_of([&] { read_records(scalar, {"text"}); }, StatusCode::Io),
                     "expected an object");
  dataset_test::error_of([&] { read_records(dir.path() / "none.jsonl", {"text"}); }, StatusCode::NotFound);
  const auto csv = dir.write("x.csv", "a,b\n");
  dataset_test::error_of([&] { read_records(csv, {"text"}); }, StatusCode::InvalidArgument);
}

TEST(DatasetFormats, LoadDocumentsFromConfigPerMode) {
  TempDir dir;
  const auto f = dir.write("chat.json",
                           R"([{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]},
                               {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}])");
  TestTokenizer tok;
  auto c = dataset_test::config();
  c.set("training.dataset_name", f.string());
  c.set("training.text_field", Strs{"messages"});
  c.set("training.eval_split", memtx::Value());
  const auto docs = load_documents(c, tok, Split::Train);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].tokens, tok.encode(render_chatml({{"user", "hi"}, {"assistant", "yo"}})));
  EXPECT_EQ(std::count(docs[0].mask.begin(), docs[0].mask.end(), 1), 3);  // "yo" + <|im_end|>
  c.set("training.training_mode", "pretraining");
  const auto pre = load_documents(c, tok, Split::Train);
  EXPECT_EQ(std::count(pre[0].mask.begin(), pre[0].mask.end(), 1), static_cast<long>(pre[0].tokens.size()));
  EXPECT_TRUE(load_documents(c, tok, Split::Eval).empty());  // eval_split null: no eval data
}

TEST(DatasetFormats, TextFieldFromYamlScalarOrList) {
  TempDir dir;
  const auto f = dir.write("d.jsonl", R"({"q": "Q", "a": "A", "text": "T"})" "\n");
  TestTokenizer tok;
  auto c = memtx::Config::from_string(
      std::shared_ptr<const memtx::Schema>(&memtx::Schema::builtin(), [](const memtx::Schema*) {}),
      "training:\n  dataset_name: " + f.string() + "\n  text_field: text\n  eval_split: null\n");
  EXPECT_EQ(load_documents(c, tok, Split::Train)[0].tokens, bytes("T"));
  c.set_from_string("training.text_field", "[q, a]");
  EXPECT_EQ(load_documents(c, tok, Split::Train)[0].tokens, bytes("Q\n\nA"));
}
