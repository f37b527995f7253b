// tests/tokenizer/tokenizer_hf_components_test.cpp: the tokenizer.json components on closed-form cases (regex
// find-all and split behaviours, each pre-tokenizer, normalizer, decoder, the WordPiece and Unigram models),
// and their error paths: unknown component types, malformed and catastrophically backtracking regexes.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/error_of.hpp"
#include "memtx/error.hpp"
#include "tokenizer/tokenizer_bpe.hpp"
#include "tokenizer/tokenizer_hf_decoders.hpp"
#include "tokenizer/tokenizer_hf_models.hpp"
#include "tokenizer/tokenizer_hf_normalizers.hpp"
#include "tokenizer/tokenizer_hf_pretokenizers.hpp"
#include "tokenizer/tokenizer_regex.hpp"

namespace {

using memtx::Error;
using memtx::StatusCode;
using namespace memtx::data;
using nlohmann::json;
using Strings = std::vector<std::string>;

const std::string kSp = "\xE2\x96\x81";  // U+2581, SentencePiece's space

Strings pre_tokenize(const PreTokenizerPtr& p, const std::string& text, bool at_start = true) {
  std::vector<Piece> pieces{{text, at_start}};
  p->pre_tokenize(pieces);
  Strings out;
  for (const Piece& piece : pieces) out.push_back(piece.text);
  return out;
}

std::string decode(const DecoderPtr& d, Strings tokens) { return decode_tokens(d.get(), std::move(tokens)); }

std::vector<int64_t> tokenize(const HfModelPtr& m, const std::string& piece) {
  std::vector<int64_t> ids;
  m->tokenize(piece, ids);
  return ids;
}

// For hostile patterns, which may either finish or fail: the code of the memtx::Error f throws, Ok if none.
template <typename F>
StatusCode outcome_of(F&& f, std::string& message) {
  try {
    f();
  } catch (const Error& e) {
    message = e.what();
    return e.code();
  }
  return StatusCode::Ok;
}

TEST(TokenizerRegex, FindMatchesLikeTheReference) {
  const Pattern digits = Pattern::regex("\\d+", "test");
  const auto spans = digits.find_matches("ab12c3");
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(spans[1].begin, 2u);
  EXPECT_EQ(spans[1].end, 4u);
  EXPECT_TRUE(spans[1].is_match);
  EXPECT_FALSE(spans[2].is_match);
  // Empty matches: one right where the previous match ended is skipped (the `onig` crate's find_iter).
  const auto empty = Pattern::regex("a*", "test").find_matches("baab");
  std::vector<std::tuple<size_t, size_t, bool>> got;
  for (const auto& s : empty) got.emplace_back(s.begin, s.end, s.is_match);
  EXPECT_EQ(got, (std::vector<std::tuple<size_t, size_t, bool>>{
                     {0, 0, true}, {0, 1, false}, {1, 3, true}, {3, 4, false}, {4, 4, true}}));
  const auto whole = Pattern::literal("--").find_matches("");
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_FALSE(whole[0].is_match);
  // Look-arounds see the whole text, Unicode classes work on UTF-8.
  EXPECT_EQ(Pattern::regex("\\p{L}+", "test").search("12\xC3\xA9t\xC3\xA9!", 0), std::make_pair(size_t{2}, size_t{7}));
}

TEST(TokenizerRegex, BadAndHostilePatternsFailClearly) {
  using memtx_test::error_of;
  std::string message = error_of([] { Pattern::regex("(ab", "tokenizer.json: Split pattern"); });
  EXPECT_NE(message.find("(ab"), std::string::npos) << message;
  EXPECT_NE(message.find("tokenizer.json"), std::string::npos) << message;
  error_of([] { Pattern::regex(std::string(Pattern::kMaxPatternBytes + 1, 'a'), "p"); });
  // Catastrophic backtracking: must either finish or fail with an error naming the pattern, fast.
  for (const std::string hostile : {"(x+x+)+y", "(a|aa)+$", "(\\w+\\s?)+$", "((a*)*b)", "(.*a){20}"}) {
    const Pattern p = Pattern::regex(hostile, "test");
    const std::string text = std::string(3000, hostile[1] == 'x' ? 'x' : 'a') + "!";
    const auto start = std::chrono::steady_clock::now();
    const StatusCode code = outcome_of([&] { p.find_matches(text); }, message);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(seconds, 20.0) << hostile;
    if (code != StatusCode::Ok) {
      EXPECT_EQ(code, StatusCode::InvalidArgument) << hostile;
      EXPECT_NE(message.find(hostile), std::string::npos) << message;
    }
  }
  // Oniguruma cannot optimise this one: its retry limit stops it (in well under a second).
  message = error_of([] { Pattern::regex("(x+x+)+y", "t").find_matches(std::string(5000, 'x')); },
                     StatusCode::InvalidArgument);
  EXPECT_NE(message.find("backtracks"), std::string::npos) << message;
  // Invalid UTF-8 reaches the engine as U+001A, one byte each: offsets are kept.
  const auto spans = Pattern::regex("\\p{L}+", "t")
                         .find_matches(
                             "ab\xFF\xC3"
                             "cd");
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[1].begin, 2u);
  EXPECT_EQ(spans[2].begin, 4u);
  EXPECT_EQ(spans[2].end, 6u);
}

TEST(TokenizerPreTokenizers, SplitBehaviours) {
  const std::string text = "the-final--countdown";
  auto split = [&](SplitBehavior b, bool invert = false) {
    return pre_tokenize(make_split_pre_tokenizer(Pattern::literal("-"), b, invert), text);
  };
  EXPECT_EQ(split(SplitBehavior::Removed), (Strings{"the", "final", "countdown"}));
  EXPECT_EQ(split(SplitBehavior::Isolated), (Strings{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split(SplitBehavior::MergedWithPrevious), (Strings{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split(SplitBehavior::MergedWithNext), (Strings{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split(SplitBehavior::Contiguous), (Strings{"the", "-", "final", "--", "countdown"}));
  EXPECT_EQ(split(SplitBehavior::Removed, true), (Strings{"-", "-", "-"}));
  EXPECT_EQ(pre_tokenize(make_split_pre_tokenizer(Pattern::regex("\\d+", "t"), SplitBehavior::Removed, true), "ab12cd"),
            (Strings{"12"}));
}

TEST(TokenizerPreTokenizers, BuiltIns) {
  EXPECT_EQ(pre_tokenize(make_byte_level_pre_tokenizer(true, true), "Hello world"),
            (Strings{"\xC4\xA0Hello", "\xC4\xA0world"}));  // U+0120 stands for ' '
  EXPECT_EQ(pre_tokenize(make_byte_level_pre_tokenizer(false, false), "a b\xC3\xA9"), (Strings{"a\xC4\xA0"
                                                                                               "b\xC3\x83\xC2\xA9"}));
  EXPECT_EQ(pre_tokenize(make_metaspace_pre_tokenizer(kSp, PrependScheme::Always, true), "Hey friend"),
            (Strings{kSp + "Hey", kSp + "friend"}));
  EXPECT_EQ(pre_tokenize(make_metaspace_pre_tokenizer(kSp, PrependScheme::First, false), "Hey friend", false),
            (Strings{"Hey" + kSp + "friend"}));
  EXPECT_EQ(pre_tokenize(make_metaspace_pre_tokenizer(kSp, PrependScheme::First, false), "Hey", true),
            (Strings{kSp + "Hey"}));
  EXPECT_EQ(pre_tokenize(make_metaspace_pre_tokenizer(kSp, PrependScheme::Never, true), "a b"),
            (Strings{"a", kSp + "b"}));
  EXPECT_EQ(pre_tokenize(make_whitespace_pre_tokenizer(), "Hey man!! how's it"),
            (Strings{"Hey", "man", "!!", "how", "'", "s", "it"}));
  EXPECT_EQ(pre_tokenize(make_whitespace_split_pre_tokenizer(), " a  b\tc\n"), (Strings{"a", "b", "c"}));
  EXPECT_EQ(pre_tokenize(make_digits_pre_tokenizer(true), "ab123c"), (Strings{"ab", "1", "2", "3", "c"}));
  EXPECT_EQ(pre_tokenize(make_digits_pre_tokenizer(false), "ab123c"), (Strings{"ab", "123", "c"}));
  EXPECT_EQ(pre_tokenize(make_punctuation_pre_tokenizer(SplitBehavior::Isolated), "a,b!!$"),
            (Strings{"a", ",", "b", "!", "!", "$"}));
  EXPECT_EQ(pre_tokenize(make_bert_pre_tokenizer(), "Hi, you!"), (Strings{"Hi", ",", "you", "!"}));
  EXPECT_EQ(pre_tokenize(make_char_delimiter_pre_tokenizer("|"), "a|b||c"), (Strings{"a", "b", "c"}));
  EXPECT_EQ(pre_tokenize(
                make_sequence_pre_tokenizer({make_whitespace_split_pre_tokenizer(), make_digits_pre_tokenizer(true)}),
                "x12 y"),
            (Strings{"x", "1", "2", "y"}));
}

TEST(TokenizerNormalizers, UnicodeFormsAndText) {
  auto apply = [](const NormalizerPtr& n, const std::string& text) { return n->normalize(text); };
  EXPECT_EQ(apply(make_form_normalizer(NormalForm::NFD), "\xC3\xA9"), "e\xCC\x81");
  EXPECT_EQ(apply(make_form_normalizer(NormalForm::NFC), "e\xCC\x81"), "\xC3\xA9");
  EXPECT_EQ(apply(make_form_normalizer(NormalForm::NFKC), "\xEF\xAC\x81\xEF\xBC\xA1"), "fiA");  // ligature, full-width
  EXPECT_EQ(apply(make_form_normalizer(NormalForm::NFC), "\xEF\xAC\x81"), "\xEF\xAC\x81");      // NFC keeps it
  EXPECT_EQ(apply(make_form_normalizer(NormalForm::NFKD), "\xC2\xBD"),
            "1\xE2\x81\x84"
            "2");                                                                            // 1/2 -> 1 U+2044 2
  EXPECT_EQ(apply(make_form_normalizer(NormalForm::NFKD), "\xE1\xBA\x9B"), "s\xCC\x87");     // long s with dot
  EXPECT_EQ(apply(make_form_normalizer(NormalForm::NFKC), "\xE1\xBA\x9B"), "\xE1\xB9\xA1");  // -> U+1E61
  EXPECT_EQ(apply(make_lowercase_normalizer(), "ABC \xC4\xB0 \xCE\xA3"), "abc i\xCC\x87 \xCF\x83");  // I-dot, Sigma
  EXPECT_EQ(apply(make_replace_normalizer(Pattern::regex(" {2,}", "t"), " "), "a   b  c d"), "a b c d");
  EXPECT_EQ(apply(make_replace_normalizer(Pattern::literal(" "), kSp), "a b"), "a" + kSp + "b");
  EXPECT_EQ(apply(make_prepend_normalizer(kSp), "x"), kSp + "x");
  EXPECT_EQ(apply(make_prepend_normalizer(kSp), ""), "");
  EXPECT_EQ(apply(make_strip_normalizer(true, false), " \t x \n"), "x \n");
  EXPECT_EQ(apply(make_strip_normalizer(true, true), " \t x \n"), "x");
  EXPECT_EQ(apply(make_strip_accents_normalizer(), "e\xCC\x81"), "e");
  EXPECT_EQ(apply(make_sequence_normalizer({make_form_normalizer(NormalForm::NFD), make_strip_accents_normalizer(),
                                            make_lowercase_normalizer()}),
                  "\xC3\x89T\xC3\x89"),
            "ete");
  // BERT: controls dropped, whitespace to ' ', spaces around CJK, accents stripped, lowercase.
  EXPECT_EQ(apply(make_bert_normalizer(true, true, true, true), "H\xC3\xA9\x01llo\t\xE4\xBD\xA0!"),
            "hello  \xE4\xBD\xA0 !");
}

TEST(TokenizerDecoders, Each) {
  EXPECT_EQ(decode(make_byte_level_decoder(), {"\xC4\xA0Hi", "<x y>"}), " Hi<x y>");
  EXPECT_EQ(decode(make_byte_fallback_decoder(), {"<0x61>", "<0xC3>", "<0xA9>", "x", "<0xFF>", "<0x41>"}),
            "a\xC3\xA9x\xEF\xBF\xBD\xEF\xBF\xBD");  // an invalid run: one U+FFFD per byte
  EXPECT_EQ(decode(make_metaspace_decoder(kSp, PrependScheme::Always), {kSp + "Hey", kSp + "friend"}), "Hey friend");
  EXPECT_EQ(decode(make_metaspace_decoder(kSp, PrependScheme::Never), {kSp + "Hey"}), " Hey");
  EXPECT_EQ(
      decode(make_sequence_decoder({make_replace_decoder(Pattern::literal(kSp), " "), make_byte_fallback_decoder(),
                                    make_fuse_decoder(), make_strip_decoder(" ", 1, 0)}),
             {kSp + "Hi", "<0x21>", kSp + "you"}),
      "Hi! you");
  EXPECT_EQ(decode(make_strip_decoder("x", 2, 1), {"xxxaxx"}), "xax");
  EXPECT_EQ(decode(make_wordpiece_decoder("##", true), {"un", "##aff", "##able", "do", "n't", "."}),
            "unaffable don't.");
  EXPECT_EQ(decode(make_bpe_decoder("</w>"), {"hel", "lo</w>", "you</w>"}), "hello you");
  EXPECT_EQ(decode(nullptr, {"a", "b"}), "a b");
}

TEST(TokenizerModels, WordPiece) {
  WordPieceSpec spec;
  spec.id_to_token = {"[UNK]", "un", "##aff", "##able", "a", "##a"};
  spec.max_input_chars_per_word = 8;
  const HfModelPtr m = make_wordpiece_model(spec);
  EXPECT_EQ(tokenize(m, "unaffable"), (std::vector<int64_t>{0}));  // 9 characters > 8
  spec.max_input_chars_per_word = 100;
  const HfModelPtr wide = make_wordpiece_model(spec);
  EXPECT_EQ(tokenize(wide, "unaffable"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(tokenize(wide, "aaa"), (std::vector<int64_t>{4, 5, 5}));
  EXPECT_EQ(tokenize(wide, "unx"), (std::vector<int64_t>{0}));  // a part matches nothing: the whole word is unk
}

TEST(TokenizerModels, Unigram) {
  UnigramSpec spec;
  spec.pieces = {{"<unk>", 0}, {"a", -1}, {"b", -1}, {"ab", -1.5}, {"abc", -5}, {"c", -2}, {"<0x7A>", -10}};
  spec.unk_id = 0;
  const HfModelPtr m = make_unigram_model(spec);
  EXPECT_EQ(tokenize(m, "ab"), (std::vector<int64_t>{3}));      // -1.5 beats a + b = -2
  EXPECT_EQ(tokenize(m, "abc"), (std::vector<int64_t>{3, 5}));  // ab + c = -3.5 beats abc = -5
  EXPECT_EQ(tokenize(m, "xya"), (std::vector<int64_t>{0, 1}));  // unknown characters fuse into one unk
  spec.byte_fallback = true;
  EXPECT_EQ(tokenize(make_unigram_model(spec), "za"), (std::vector<int64_t>{6, 1}));
  EXPECT_EQ(tokenize(make_unigram_model(spec), "ya"), (std::vector<int64_t>{0, 1}));  // no <0x79>: unk
}

// A minimal tokenizer.json (a BPE over "a", "b", "ab") with the given pipeline parts.
json minimal(json normalizer, json pre_tokenizer, json decoder) {
  return json{
      {"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {"ab", 2}}}, {"merges", json::array({"a b"})}}},
      {"normalizer", normalizer},
      {"pre_tokenizer", pre_tokenizer},
      {"decoder", decoder}};
}

TEST(TokenizerJson, PipelineFromJsonAndErrors) {
  const json ws = {{"type", "WhitespaceSplit"}};
  auto tok = make_bpe_tokenizer(
      parse_tokenizer_json(minimal({{"type", "Lowercase"}}, ws, {{"type", "Fuse"}}).dump(), "t.json"));
  EXPECT_EQ(tok->encode("AB a"), (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(tok->decode({2, 0}), "aba");

  using memtx_test::error_of;
  auto failure = [&](const json& j, StatusCode code) {
    return error_of([&] { parse_tokenizer_json(j.dump(), "t.json"); }, code);
  };
  std::string message = failure(minimal({{"type", "Nmt"}}, ws, nullptr), StatusCode::Config);
  EXPECT_NE(message.find("normalizer \"Nmt\""), std::string::npos) << message;
  message = failure(minimal(nullptr, {{"type", "UnicodeScripts"}}, nullptr), StatusCode::Config);
  EXPECT_NE(message.find("UnicodeScripts"), std::string::npos) << message;
  message = failure(minimal(nullptr, ws, {{"type", "CTC"}}), StatusCode::Config);
  EXPECT_NE(message.find("decoder \"CTC\""), std::string::npos) << message;
  const json bad_split = {{"type", "Split"}, {"pattern", {{"Regex", "[a-"}}}, {"behavior", "Isolated"}};
  message = failure(minimal(nullptr, bad_split, nullptr), StatusCode::Config);
  EXPECT_NE(message.find("[a-"), std::string::npos) << message;
  EXPECT_NE(message.find("t.json"), std::string::npos) << message;
  const json bad_behavior = {{"type", "Split"}, {"pattern", {{"String", "x"}}}, {"behavior", "Sideways"}};
  message = failure(minimal(nullptr, bad_behavior, nullptr), StatusCode::Io);
  EXPECT_NE(message.find("Sideways"), std::string::npos) << message;
  const json bad_replace = {{"type", "Replace"}, {"pattern", {{"Regex", "(?<"}}}, {"content", ""}};
  failure(minimal(bad_replace, ws, nullptr), StatusCode::Config);
  const json no_pattern = {{"type", "Replace"}, {"pattern", {{"Glob", "*"}}}, {"content", ""}};
  failure(minimal(no_pattern, ws, nullptr), StatusCode::Io);
  const json wide_strip = {{"type", "Strip"}, {"content", "ab"}, {"start", 1}, {"stop", 0}};
  failure(minimal(nullptr, ws, wide_strip), StatusCode::Io);

  json nested = ws;
  for (int i = 0; i < 100; ++i) nested = {{"type", "Sequence"}, {"pretokenizers", json::array({nested})}};
  message = failure(minimal(nullptr, nested, nullptr), StatusCode::Io);
  EXPECT_NE(message.find("nested"), std::string::npos) << message;

  // A hostile Split regex fails encode() with an error naming it, never hangs.
  const json hostile = {{"type", "Split"}, {"pattern", {{"Regex", "(x+x+)+y"}}}, {"behavior", "Isolated"}};
  auto slow = make_bpe_tokenizer(parse_tokenizer_json(minimal(nullptr, hostile, nullptr).dump(), "t.json"));
  message = error_of([&] { slow->encode(std::string(4000, 'x')); }, StatusCode::InvalidArgument);
  EXPECT_NE(message.find("(x+x+)+y"), std::string::npos) << message;
}

}  // namespace
