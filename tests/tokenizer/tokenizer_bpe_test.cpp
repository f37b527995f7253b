// tests/tokenizer/tokenizer_bpe_test.cpp: Hugging Face byte-level BPE: every sample of the tokenizer-bpe fixture
// (ids from the `tokenizers` library, and the round trip), special tokens, options of tokenizer.json
// (merges as pairs, Llama 3 / Qwen2 Split patterns, ignore_merges, NFC, added-token options) and errors.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error_of.hpp"
#include "memtx/error.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/tokenizer_bpe.hpp"
#include "fixture_skip.hpp"

namespace {

using memtx::Error;
using memtx::StatusCode;
using memtx::data::load_tokenizer;
using nlohmann::json;

const std::string kFixture = std::string(MEMTX_FIXTURES_DIR) + "/tokenizer-bpe";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A tiny byte-level BPE tokenizer.json: the 256 byte symbols (ids 0..255), then merged tokens.
json tiny_tokenizer(const std::vector<std::pair<std::string, std::string>>& merges) {
  // GPT-2 byte-to-unicode stand-ins.
  json vocab = json::object();
  int next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    const char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(next++);
    std::string s;
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    vocab[s] = b;
  }
  int id = 256;
  json merge_list = json::array();
  for (const auto& [a, b] : merges) {
    if (!vocab.contains(a + b)) vocab[a + b] = id++;
    merge_list.push_back(a + " " + b);
  }
  return json{{"version", "1.0"},
              {"added_tokens", json::array({{{"id", id}, {"content", "<|endoftext|>"}, {"special", true}}})},
              {"normalizer", nullptr},
              {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
              {"decoder", {{"type", "ByteLevel"}}},
              {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merge_list}}}};
}

std::unique_ptr<memtx::data::Tokenizer> from_json(const json& j) {
  return memtx::data::make_bpe_tokenizer(memtx::data::parse_tokenizer_json(j.dump(), "test.json"));
}

using memtx_test::code_of;

TEST(TokenizerBpe, ReproducesEveryFixtureSample) {
  SKIP_WITHOUT_TOKENIZER_FIXTURE();
  auto tok = load_tokenizer(kFixture + "/tokenizer.json");
  EXPECT_EQ(tok->kind(), "bpe");
  EXPECT_EQ(tok->vocab_size(), 600);
  const json samples = json::parse(slurp(kFixture + "/encodings.json"));
  ASSERT_GE(samples.size(), 7u);
  for (const json& s : samples) {
    const std::string text = s["text"];
    const std::vector<int64_t> expected = s["ids"].get<std::vector<int64_t>>();
    EXPECT_EQ(tok->encode(text), expected) << text;
    EXPECT_EQ(tok->decode(expected), text);
    EXPECT_EQ(tok->encode(text), expected) << "second (cached) encoding of " << text;
  }
}

TEST(TokenizerBpe, FolderSpecAndSpecialTokens) {
  SKIP_WITHOUT_TOKENIZER_FIXTURE();
  auto tok = load_tokenizer(kFixture);
  EXPECT_EQ(tok->token_id("<|endoftext|>"), 0);
  EXPECT_EQ(tok->token_id("<|im_start|>"), 1);
  EXPECT_EQ(tok->token_id("<|im_end|>"), 2);
  EXPECT_FALSE(tok->token_id("<|nope|>"));
  EXPECT_EQ(tok->eos_id(), 0);
  EXPECT_EQ(tok->pad_id(), 0);
  EXPECT_FALSE(tok->bos_id());
  const std::vector<int64_t> ids = tok->encode("a<|endoftext|><|im_end|>b");
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids[1], 0);
  EXPECT_EQ(ids[2], 2);
  EXPECT_EQ(tok->decode(ids), "a<|endoftext|><|im_end|>b");
  EXPECT_EQ(tok->encode(""), std::vector<int64_t>{});
}

TEST(TokenizerBpe, RoundTripsArbitraryBytes) {
  SKIP_WITHOUT_TOKENIZER_FIXTURE();
  auto tok = load_tokenizer(kFixture + "/tokenizer.json");
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const std::string texts[] = {all, "\xff\xfe broken \xc3 utf8 \xe2\x82", std::string("nul\0inside", 10),
                               "tab\t\tand\r\nCRLF   \n\n", "ﬁ ligature, Å, 한국어, עברית, ٣٤٥"};
  for (const std::string& t : texts) EXPECT_EQ(tok->decode(tok->encode(t)), t);
}

TEST(TokenizerBpe, InvalidIdsInDecode) {
  SKIP_WITHOUT_TOKENIZER_FIXTURE();
  auto tok = load_tokenizer(kFixture + "/tokenizer.json");
  std::string message;
  EXPECT_EQ(code_of([&] { tok->decode({5, 600}); }, &message), StatusCode::InvalidArgument);
  EXPECT_NE(message.find("600"), std::string::npos) << message;
  EXPECT_EQ(code_of([&] { tok->decode({-1}); }), StatusCode::InvalidArgument);
}

TEST(TokenizerBpe, MergesByRankAsStringsOrPairs) {
  json j = tiny_tokenizer({{"a", "b"}, {"b", "c"}, {"ab", "c"}});
  auto tok = from_json(j);
  // "abc": (a,b) has rank 0, so ab + c, then (ab, c) -> abc.
  EXPECT_EQ(tok->encode("abc"), (std::vector<int64_t>{258}));
  EXPECT_EQ(tok->encode("bc"), (std::vector<int64_t>{257}));
  EXPECT_EQ(tok->encode("cab"), (std::vector<int64_t>{'c', 256}));
  json pairs = j;
  pairs["model"]["merges"] = json::array({json::array({"a", "b"}), json::array({"b", "c"}), json::array({"ab", "c"})});
  EXPECT_EQ(from_json(pairs)->encode("abc cab"), from_json(j)->encode("abc cab"));
  // Equal ranks resolve leftmost first: "aaa" -> aa + a.
  auto aa = from_json(tiny_tokenizer({{"a", "a"}}));
  EXPECT_EQ(aa->encode("aaa"), (std::vector<int64_t>{256, 'a'}));
  EXPECT_EQ(aa->encode("aaaa"), (std::vector<int64_t>{256, 256}));
}

TEST(TokenizerBpe, IgnoreMergesTakesWholeVocabularyWords) {
  json j = tiny_tokenizer({{"a", "b"}});
  j["model"]["vocab"]["xyz"] = 300;
  auto plain = from_json(j);
  EXPECT_EQ(plain->encode("xyz"), (std::vector<int64_t>{'x', 'y', 'z'}));
  j["model"]["ignore_merges"] = true;
  EXPECT_EQ(from_json(j)->encode("xyz"), (std::vector<int64_t>{300}));
}

TEST(TokenizerBpe, SplitPatternsOfLlama3AndQwen2) {
  const std::string llama =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  const std::string qwen =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  // Ids: 12 = 256, 123 = 257, 1234 = 258, "Ġx" = 259.
  json j = tiny_tokenizer({{"1", "2"}, {"12", "3"}, {"123", "4"}, {"Ġ", "x"}});
  auto with_split = [&](const std::string& pattern) {
    json k = j;
    k["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers",
                           json::array({{{"type", "Split"},
                                         {"pattern", {{"Regex", pattern}}},
                                         {"behavior", "Isolated"},
                                         {"invert", false}},
                                        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}};
    return from_json(k);
  };
  auto l3 = with_split(llama);
  EXPECT_EQ(l3->encode("1234"), (std::vector<int64_t>{257, '4'}));  // \p{N}{1,3}: "123", "4"
  EXPECT_EQ(l3->encode(" x"), (std::vector<int64_t>{259}));
  auto q2 = with_split(qwen);
  EXPECT_EQ(q2->encode("1234"), (std::vector<int64_t>{'1', '2', '3', '4'}));  // single digits
  EXPECT_EQ(from_json(j)->encode("1234"), (std::vector<int64_t>{258}));       // GPT-2: \p{N}+
  std::string message;
  // Any other regex runs on Oniguruma; one that does not compile is refused naming the file and the pattern.
  EXPECT_EQ(with_split("\\d+")->encode("ab12"), (std::vector<int64_t>{'a', 'b', 256}));
  EXPECT_EQ(code_of([&] { with_split("(\\w+"); }, &message), StatusCode::Config);
  EXPECT_NE(message.find("test.json"), std::string::npos) << message;
  EXPECT_NE(message.find("(\\w+"), std::string::npos) << message;
}

TEST(TokenizerBpe, NfcNormalizer) {
  json j = tiny_tokenizer({});
  j["normalizer"] = {{"type", "NFC"}};
  auto tok = from_json(j);
  // "e" + COMBINING ACUTE becomes U+00E9 (bytes C3 A9).
  EXPECT_EQ(tok->decode(tok->encode("e\xCC\x81")), "\xC3\xA9");
  j["normalizer"] = {{"type", "Sequence"}, {"normalizers", json::array({{{"type", "NFC"}}})}};
  EXPECT_EQ(from_json(j)->decode(from_json(j)->encode("e\xCC\x81")), "\xC3\xA9");
}

TEST(TokenizerBpe, AddedTokenOptions) {
  json j = tiny_tokenizer({});
  j["added_tokens"] = json::array({{{"id", 256}, {"content", "<a>"}, {"special", true}},
                                   {{"id", 257}, {"content", "<ab>"}, {"special", true}},
                                   {{"id", 258}, {"content", "[L]"}, {"lstrip", true}},
                                   {{"id", 259}, {"content", "[R]"}, {"rstrip", true}},
                                   {{"id", 260}, {"content", "w"}, {"single_word", true}}});
  auto tok = from_json(j);
  EXPECT_EQ(tok->vocab_size(), 261);
  EXPECT_EQ(tok->encode("<ab><a>"), (std::vector<int64_t>{257, 256}));  // longest match
  EXPECT_EQ(tok->encode("x  [L]"), (std::vector<int64_t>{'x', 258}));
  EXPECT_EQ(tok->encode("[R]  x"), (std::vector<int64_t>{259, 'x'}));
  // single_word: "w" alone is the token, inside "ww" it is not (byte ids equal the bytes here).
  EXPECT_EQ(tok->encode("w ww"), (std::vector<int64_t>{260, ' ', 'w', 'w'}));
}

TEST(TokenizerBpe, BosEosPadFromTokenizerConfig) {
  json j = tiny_tokenizer({});
  j["added_tokens"].push_back({{"id", 257}, {"content", "<s>"}, {"special", true}});
  j["added_tokens"].push_back({{"id", 258}, {"content", "</s>"}, {"special", true}});
  auto spec = memtx::data::parse_tokenizer_json(j.dump(), "t.json");
  auto tok = memtx::data::make_bpe_tokenizer(spec, R"({"bos_token": {"content": "<s>"}, "eos_token": "</s>",
                                                        "pad_token": "<|endoftext|>"})", "c.json");
  EXPECT_EQ(tok->bos_id(), 257);
  EXPECT_EQ(tok->eos_id(), 258);
  EXPECT_EQ(tok->pad_id(), 256);
  auto defaults = memtx::data::make_bpe_tokenizer(spec);
  EXPECT_EQ(defaults->bos_id(), 257);
  EXPECT_EQ(defaults->eos_id(), 256);  // <|endoftext|> comes first among the known eos names
  EXPECT_EQ(code_of([&] { memtx::data::make_bpe_tokenizer(spec, "{oops", "c.json"); }), StatusCode::Io);
}

TEST(TokenizerBpe, Errors) {
  std::string message;
  EXPECT_EQ(code_of([&] { memtx::data::parse_tokenizer_json("{\"model\": ", "bad.json"); }, &message), StatusCode::Io);
  EXPECT_NE(message.find("bad.json"), std::string::npos) << message;

  json j = tiny_tokenizer({{"a", "b"}});
  json k = j;
  k["model"]["type"] = "WordLevel";
  EXPECT_EQ(code_of([&] { from_json(k); }, &message), StatusCode::Config);
  EXPECT_NE(message.find("WordLevel"), std::string::npos) << message;
  EXPECT_NE(message.find("test.json"), std::string::npos) << message;

  k = j;
  k["model"].erase("vocab");
  EXPECT_EQ(code_of([&] { from_json(k); }, &message), StatusCode::Io);
  EXPECT_NE(message.find("vocab"), std::string::npos) << message;

  k = j;
  k["model"]["merges"] = json::array({"a q z"});
  EXPECT_EQ(code_of([&] { from_json(k); }), StatusCode::Io);
  k["model"]["merges"] = json::array({"a \xE2\x82\xAC"});
  EXPECT_EQ(code_of([&] { from_json(k); }), StatusCode::Io);

  k = j;
  k["normalizer"] = {{"type", "Precompiled"}};
  EXPECT_EQ(code_of([&] { from_json(k); }, &message), StatusCode::Config);
  EXPECT_NE(message.find("Precompiled"), std::string::npos) << message;

  k = j;
  k["pre_tokenizer"] = {{"type", "UnicodeScripts"}};
  EXPECT_EQ(code_of([&] { from_json(k); }, &message), StatusCode::Config);
  EXPECT_NE(message.find("UnicodeScripts"), std::string::npos) << message;

  k = j;
  k["decoder"] = {{"type", "CTC"}};
  EXPECT_EQ(code_of([&] { from_json(k); }, &message), StatusCode::Config);
  EXPECT_NE(message.find("CTC"), std::string::npos) << message;

  k = j;
  k["model"]["dropout"] = 0.1;
  EXPECT_EQ(code_of([&] { from_json(k); }), StatusCode::Config);
}

}  // namespace
