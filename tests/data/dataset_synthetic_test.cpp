// tests/data/dataset_synthetic_test.cpp: the built-in synthetic datasets: passkey prompt structure (exact
// length, needle at the requested depth, depth 0 in the first segment, the question last, answer-only
// mask), reproducibility, associative recall answers, name parameters, and the datasets through the config.
#include <cmath>
#include <regex>
#include <set>

#include "data/dataset.hpp"
#include "data/synthetic.hpp"
#include "data/synthetic_passkey.hpp"
#include "data/synthetic_recall.hpp"
#include "dataset_support.hpp"

using namespace memtx::data;
using dataset_test::bytes;
using dataset_test::TestTokenizer;
using memtx::StatusCode;

namespace {

std::string needle(const std::string& key) { return "The pass key is " + key + ". Remember it. " + key + " is the pass key."; }

}  // namespace

TEST(DatasetPasskey, StructureAndExactLength) {
  TestTokenizer tok;
  PasskeyOptions o;
  o.length = 2000;
  o.depth = 0.5;
  o.seed = 42;
  const PasskeyExample ex = make_passkey_example(tok, o);
  EXPECT_EQ(static_cast<int64_t>(ex.prompt.size() + ex.answer.size()), 2000);
  ASSERT_EQ(ex.passkey.size(), 5u);
  EXPECT_NE(ex.passkey[0], '0');
  EXPECT_EQ(ex.answer, bytes(" " + ex.passkey));
  const std::string text = tok.decode(ex.prompt);
  EXPECT_EQ(text.rfind("The grass is green. The sky is blue.", 0), 0u);
  const std::string question = " What is the pass key? The pass key is";
  EXPECT_EQ(text.substr(text.size() - question.size()), question);
  const std::string in_needle(text.begin() + ex.needle_begin, text.begin() + ex.needle_end);
  EXPECT_EQ(in_needle, " " + needle(ex.passkey));
  EXPECT_EQ(text.find(ex.passkey), static_cast<size_t>(ex.needle_begin) + 17);  // only inside the needle
  EXPECT_EQ(ex.filler_tokens, 2000 - static_cast<int64_t>(in_needle.size() + question.size() + ex.answer.size()));
  // The needle sits on a sentence boundary: right after a filler sentence's full stop.
  EXPECT_EQ(text[static_cast<size_t>(ex.needle_begin) - 1], '.');
}

// The prompt as text built independently, for the byte tokenizer (one token per byte): the filler sentences in
// their cycle (the first without its leading space), the needle after needle_begin bytes of filler, the cycle
// going on from the next sentence, cut so that the question ends the prompt.
std::string reference_prompt_text(const PasskeyExample& ex, int64_t prompt_length) {
  const char* sentences[] = {"The grass is green.", "The sky is blue.", "The sun is yellow.", "Here we go.",
                             "There and back again."};
  std::string text;
  size_t k = 0;
  for (; static_cast<int64_t>(text.size()) < ex.needle_begin; ++k) text += (k == 0 ? "" : " ") + std::string(sentences[k % 5]);
  text += (ex.needle_begin == 0 ? "" : " ") + needle(ex.passkey);
  const std::string question = " What is the pass key? The pass key is";
  std::string after;
  for (; static_cast<int64_t>(text.size() + after.size() + question.size()) < prompt_length; ++k)
    after += " " + std::string(sentences[k % 5]);
  after.resize(static_cast<size_t>(prompt_length) - text.size() - question.size());
  return text + after + question;
}

TEST(DatasetPasskey, PlannedPromptWritesAnyRangeOfTheReferenceText) {
  TestTokenizer tok;
  for (int64_t length : {120, 300, 1000, 4096, 100000}) {
    for (double depth : {0.0, 0.3, 1.0}) {
      PasskeyOptions o;
      o.length = length;
      o.depth = depth;
      o.seed = 11;
      PasskeyPrompt prompt;
      const PasskeyExample planned = plan_passkey_example(tok, o, &prompt);
      EXPECT_TRUE(planned.prompt.empty());
      const std::string expected = reference_prompt_text(planned, length - static_cast<int64_t>(planned.answer.size()));
      ASSERT_EQ(prompt.size(), static_cast<int64_t>(expected.size())) << length << " " << depth;
      EXPECT_EQ(tok.decode(prompt.tokens()), expected) << length << " " << depth;
      // Ranges that start and end anywhere (inside a sentence, across the needle, many cycles in).
      for (int64_t begin : {int64_t{0}, int64_t{1}, int64_t{7}, length / 3, length / 2 + 5, prompt.size() - 3}) {
        for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{13}, int64_t{64}, int64_t{1000}}) {
          const int64_t end = std::min(prompt.size(), begin + n);
          std::vector<int64_t> piece(static_cast<size_t>(end - begin));
          prompt.copy(begin, end, piece.data());
          EXPECT_EQ(tok.decode(piece), expected.substr(static_cast<size_t>(begin), static_cast<size_t>(end - begin)))
              << "length " << length << " depth " << depth << " [" << begin << ", " << end << ")";
        }
      }
      EXPECT_EQ(make_passkey_example(tok, o).prompt, prompt.tokens());
    }
  }
  PasskeyPrompt empty;
  std::vector<int64_t> none(1);
  EXPECT_THROW(empty.copy(0, 1, none.data()), memtx::Error);
}

TEST(DatasetPasskey, NeedleAtTheRequestedDepth) {
  TestTokenizer tok;
  for (int64_t length : {300, 1000, 4096}) {
    for (double depth : {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0}) {
      PasskeyOptions o;
      o.length = length;
      o.depth = depth;
      o.seed = 7;
      const PasskeyExample ex = make_passkey_example(tok, o);
      EXPECT_EQ(static_cast<int64_t>(ex.prompt.size() + ex.answer.size()), length);
      // Filler before the needle / all filler, within one filler sentence (at most 22 bytes) of the request.
      const double tolerance = 22.0 / static_cast<double>(ex.filler_tokens);
      EXPECT_NEAR(ex.depth, depth, tolerance) << "length " << length << " depth " << depth;
      EXPECT_NEAR(static_cast<double>(ex.needle_begin) / static_cast<double>(ex.filler_tokens), depth, tolerance);
    }
  }
}

TEST(DatasetPasskey, DepthZeroIsInTheFirstSegment) {
  TestTokenizer tok;
  PasskeyOptions o;
  o.length = 8192;
  o.depth = 0.0;
  o.seed = 3;
  const PasskeyExample ex = make_passkey_example(tok, o);
  EXPECT_EQ(ex.needle_begin, 0);
  EXPECT_LE(ex.needle_end, 64);  // inside a 64-token segment (infini_attention.segment_length's default)
  EXPECT_EQ(tok.decode(ex.prompt).rfind(needle(ex.passkey), 0), 0u);
  EXPECT_EQ(ex.depth, 0.0);
  // With a tokenizer that starts every text with bos, the needle follows it directly.
  TestTokenizer bos_tok(true);
  const PasskeyExample eb = make_passkey_example(bos_tok, o);
  EXPECT_EQ(eb.prompt[0], TestTokenizer::kBos);
  EXPECT_EQ(eb.needle_begin, 1);
  EXPECT_EQ(static_cast<int64_t>(eb.prompt.size() + eb.answer.size()), 8192);
  EXPECT_EQ(std::count(eb.prompt.begin(), eb.prompt.end(), TestTokenizer::kBos), 1);
}

TEST(DatasetPasskey, DepthOneIsRightBeforeTheQuestion) {
  TestTokenizer tok;
  PasskeyOptions o;
  o.length = 3000;
  o.depth = 1.0;
  const PasskeyExample ex = make_passkey_example(tok, o);
  const int64_t question = static_cast<int64_t>(std::string(" What is the pass key? The pass key is").size());
  const int64_t after = static_cast<int64_t>(ex.prompt.size()) - question - ex.needle_end;
  EXPECT_GE(after, 0);
  EXPECT_LT(after, 22);  // less than one filler sentence
}

TEST(DatasetPasskey, ReproducibleFromTheSeed) {
  TestTokenizer tok;
  PasskeyOptions o;
  o.length = 500;
  o.seed = 11;
  const auto a = make_passkey_example(tok, o), b = make_passkey_example(tok, o);
  EXPECT_EQ(a.prompt, b.prompt);
  EXPECT_EQ(a.passkey, passkey_for_seed(11, 5));
  std::set<std::string> keys;
  for (uint64_t s = 0; s < 50; ++s) keys.insert(passkey_for_seed(s, 5));
  EXPECT_GT(keys.size(), 45u);
  EXPECT_EQ(passkey_for_seed(5, 12).size(), 12u);
}

TEST(DatasetPasskey, MasksAndErrors) {
  TestTokenizer tok;
  PasskeyOptions o;
  o.length = 400;
  const auto ex = make_passkey_example(tok, o);
  const Document ift = passkey_document(ex, true);
  EXPECT_EQ(std::count(ift.mask.begin(), ift.mask.end(), 1), static_cast<long>(ex.answer.size()));
  EXPECT_EQ(std::vector<uint8_t>(ift.mask.end() - static_cast<long>(ex.answer.size()), ift.mask.end()),
            std::vector<uint8_t>(ex.answer.size(), 1));
  const Document pre = passkey_document(ex, false);
  EXPECT_EQ(pre.mask, std::vector<uint8_t>(pre.tokens.size(), 1));
  const int64_t minimum = passkey_min_length(tok);
  o.length = minimum;
  EXPECT_EQ(static_cast<int64_t>(make_passkey_example(tok, o).prompt.size()) + 6, minimum);
  o.length = minimum - 1;
  DS_EXPECT_CONTAINS(dataset_test::error_of([&] { make_passkey_example(tok, o); }, StatusCode::InvalidArgument),
                     "below the shortest prompt");
  o.length = 500;
  o.depth = 1.5;
  dataset_test::error_of([&] { make_passkey_example(tok, o); }, StatusCode::InvalidArgument);
}

TEST(DatasetRecall, AnswerIsTheQueriedValue) {
  TestTokenizer tok;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    RecallOptions o;
    o.pairs = 12;
    o.seed = seed;
    const RecallExample ex = make_recall_example(tok, o);
    const std::string text = tok.decode(ex.prompt);
    EXPECT_EQ(text, ex.text);
    // Parse the prompt back: pairs, then the query.
    std::map<std::string, std::string> parsed;
    const std::regex pair_re("([a-z]{3})=([0-9]{3})");
    for (std::sregex_iterator it(text.begin(), text.end(), pair_re), end; it != end; ++it) {
      EXPECT_TRUE(parsed.emplace((*it)[1], (*it)[2]).second) << "duplicate key " << (*it)[1];
    }
    EXPECT_EQ(parsed.size(), 12u);
    std::smatch q;
    ASSERT_TRUE(std::regex_search(text, q, std::regex("Query: ([a-z]{3})\\. Value:$")));
    EXPECT_EQ(q[1], ex.key);
    EXPECT_EQ(tok.decode(ex.answer), " " + parsed.at(q[1]));
    EXPECT_EQ(ex.value, parsed.at(q[1]));
  }
  RecallOptions bad;
  bad.pairs = 14;
  bad.key_length = 1;  // 26 keys: at most 13 pairs
  dataset_test::error_of([&] { make_recall_example(tok, bad); }, StatusCode::InvalidArgument);
}

TEST(DatasetSynthetic, NameParameters) {
  const auto plain = parse_synthetic_name("synthetic:passkey");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->examples, 500);
  EXPECT_FALSE(plain->length.has_value());
  EXPECT_FALSE(plain->depth.has_value());
  const auto p = parse_synthetic_name("synthetic:passkey?length=512&depth=0.25&examples=9&digits=7");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p->length, 512);
  EXPECT_EQ(*p->depth, 0.25);
  EXPECT_EQ(p->examples, 9);
  EXPECT_EQ(p->digits, 7);
  EXPECT_FALSE(parse_synthetic_name("synthetic:passkey?depth=random")->depth.has_value());
  const auto r = parse_synthetic_name("synthetic:associative_recall?pairs=40&key_length=4");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->pairs, 40);
  EXPECT_EQ(r->key_length, 4);
  EXPECT_FALSE(parse_synthetic_name("synthetic:unknown").has_value());
  EXPECT_FALSE(parse_synthetic_name("passkey").has_value());
  const std::string msg = dataset_test::error_of([] { parse_synthetic_name("synthetic:passkey?lenght=5"); },
                                                 StatusCode::Config);
  DS_EXPECT_CONTAINS(msg, "unknown parameter 'lenght'");
  DS_EXPECT_CONTAINS(msg, "length, min_length, depth, digits, examples");
  dataset_test::error_of([] { parse_synthetic_name("synthetic:passkey?depth=2"); }, StatusCode::Config);
  dataset_test::error_of([] { parse_synthetic_name("synthetic:passkey?length=abc"); }, StatusCode::Config);
  dataset_test::error_of([] { parse_synthetic_name("synthetic:passkey?length"); }, StatusCode::Config);
  dataset_test::error_of([] { parse_synthetic_name("synthetic:associative_recall?pairs=20&key_length=1"); },
                         StatusCode::Config);
}

TEST(DatasetSynthetic, PasskeyThroughTheConfigFillsWindowsExactly) {
  TestTokenizer tok;
  auto c = dataset_test::config();
  c.set("training.dataset_name", "synthetic:passkey?examples=40");
  c.set("training.max_length", 256);
  c.set("training.eval_fraction", 0.1);
  const auto train = load_documents(c, tok, Split::Train);
  const auto eval = load_documents(c, tok, Split::Eval);
  ASSERT_EQ(train.size(), 40u);
  ASSERT_EQ(eval.size(), 4u);
  for (const auto& d : train) {
    EXPECT_EQ(d.tokens.size(), 256u);
    EXPECT_EQ(std::count(d.mask.begin(), d.mask.end(), 1), 6);  // " NNNNN" in instruction_finetuning
  }
  EXPECT_NE(train[0].tokens, eval[0].tokens);  // eval examples are drawn apart from train's
  EXPECT_EQ(load_documents(c, tok, Split::Train)[7].tokens, train[7].tokens);  // reproducible
  c.set("training.data_seed", 1);
  EXPECT_NE(load_documents(c, tok, Split::Train)[0].tokens, train[0].tokens);
  // Packed: every window is one whole example followed by eos, so no window mixes two needles.
  c.set("training.data_seed", 0);
  auto it = make_batch_iterator(c, tok, Split::Train);
  const Batch b = it->next_batch(40);
  ASSERT_EQ(b.batch, 40);
  for (int64_t r = 0; r < b.batch; ++r) {
    const auto* row = b.tokens.data() + r * 257;
    EXPECT_EQ(row[256], TestTokenizer::kEos);
    const std::string text = tok.decode(std::vector<int64_t>(row, row + 256));
    EXPECT_NE(text.find("What is the pass key? The pass key is "), std::string::npos);
    EXPECT_EQ(b.mask[static_cast<size_t>(r * 257 + 256)], 1);  // eos after the answer counts
  }
  c.set("training.training_mode", "pretraining");
  const auto pre = load_documents(c, tok, Split::Train);
  EXPECT_EQ(pre[0].mask, std::vector<uint8_t>(256, 1));
  c.set("training.max_length", 50);  // too short for a passkey prompt: the message names the key
  DS_EXPECT_CONTAINS(dataset_test::error_of([&] { load_documents(c, tok, Split::Train); }, StatusCode::Config),
                     "passkey length 50 (training.max_length) is below the shortest passkey prompt");
}

TEST(DatasetSynthetic, PasskeyMinLengthPutsTheAnswerAtEveryOffset) {
  TestTokenizer tok;
  auto c = dataset_test::config();
  c.set("training.dataset_name", "synthetic:passkey?min_length=120&examples=200");
  c.set("training.max_length", 256);
  const auto docs = load_documents(c, tok, Split::Train);
  ASSERT_EQ(docs.size(), 200u);
  std::set<int64_t> answer_starts;
  for (const auto& d : docs) {
    ASSERT_EQ(d.tokens.size(), 256u);  // still one example per window
    const auto first = std::find(d.mask.begin(), d.mask.end(), 1) - d.mask.begin();
    ASSERT_EQ(std::count(d.mask.begin(), d.mask.end(), 1), 6);  // only " NNNNN" counts; the filler after it not
    ASSERT_TRUE(std::all_of(d.mask.begin() + first, d.mask.begin() + first + 6, [](uint8_t m) { return m == 1; }));
    const int64_t end = first + 6;  // prompt + answer
    EXPECT_GE(end, 120);
    EXPECT_LE(end, 256);
    const std::string before = tok.decode(std::vector<int64_t>(d.tokens.begin(), d.tokens.begin() + first));
    EXPECT_EQ(before.size() - before.rfind("What is the pass key? The pass key is"), 37u);  // the question ends there
    const std::string after = tok.decode(std::vector<int64_t>(d.tokens.begin() + end, d.tokens.end()));
    EXPECT_EQ(after, tok.decode(memtx::data::passkey_filler(tok, 256 - end)));
    answer_starts.insert(end);
  }
  EXPECT_GT(answer_starts.size(), 60u);  // 137 possible ends: the offsets within a segment all occur
  EXPECT_GE(*answer_starts.begin(), 120);
  c.set("training.dataset_name", "synthetic:passkey?min_length=300");
  DS_EXPECT_CONTAINS(dataset_test::error_of([&] { load_documents(c, tok, Split::Train); }, StatusCode::Config),
                     "min_length=300 is above the length, 256 (training.max_length)");
  c.set("training.dataset_name", "synthetic:passkey?min_length=20");
  DS_EXPECT_CONTAINS(dataset_test::error_of([&] { load_documents(c, tok, Split::Train); }, StatusCode::Config),
                     "passkey length 20 (min_length=) is below the shortest passkey prompt");
}

TEST(DatasetSynthetic, RecallThroughTheConfig) {
  TestTokenizer tok;
  auto c = dataset_test::config();
  c.set("training.dataset_name", "synthetic:associative_recall?pairs=8&examples=30");
  c.set("training.eval_split", memtx::Value());
  const auto docs = load_documents(c, tok, Split::Train);
  ASSERT_EQ(docs.size(), 30u);
  EXPECT_TRUE(load_documents(c, tok, Split::Eval).empty());
  for (const auto& d : docs) {
    const std::string text = tok.decode(d.tokens);
    EXPECT_EQ(text.rfind("Key-value pairs: ", 0), 0u);
    EXPECT_EQ(std::count(d.mask.begin(), d.mask.end(), 1), 4);  // " NNN"
  }
}
