// tests/tokenizer/tokenizer_unicode_test.cpp: the Unicode layer of the tokenizers: lenient UTF-8 decoding,
// categories (\p{L}, \p{N}, \s), the GPT-2 / Llama 3 / Qwen2 pre-tokenizer scanners (expected pieces
// are what a backtracking regex engine with these patterns yields), and NFC.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/tokenizer_nfc.hpp"
#include "tokenizer/tokenizer_pretokenize.hpp"
#include "tokenizer/tokenizer_unicode.hpp"

namespace {

using memtx::data::SplitPattern;
using Pieces = std::vector<std::string>;
namespace unicode = memtx::data::unicode;

Pieces split(const std::string& text, SplitPattern p) {
  Pieces out;
  for (const auto& [b, e] : memtx::data::split_text(text, p)) out.push_back(text.substr(b, e - b));
  return out;
}

TEST(TokenizerUnicode, DecodesUtf8Leniently) {
  const auto units = unicode::decode_utf8("a\xC3\xA9\xF0\x9F\x99\x82\xFF\xE2\x82");
  ASSERT_EQ(units.size(), 6u);
  EXPECT_EQ(units[0].cp, U'a');
  EXPECT_EQ(units[1].cp, U'\u00E9');
  EXPECT_EQ(units[2].cp, U'\U0001F642');
  EXPECT_EQ(units[2].begin, 3u);
  EXPECT_EQ(units[2].length, 4u);
  EXPECT_EQ(units[3].cp, unicode::kInvalid);  // a stray byte
  EXPECT_EQ(units[4].cp, unicode::kInvalid);  // a truncated sequence: one unit per byte
  EXPECT_EQ(units[5].cp, unicode::kInvalid);
  EXPECT_EQ(unicode::utf8_sequence_length("\xC0\x80", 0), 0u);          // overlong
  EXPECT_EQ(unicode::utf8_sequence_length("\xED\xA0\x80", 0), 0u);      // surrogate
  EXPECT_EQ(unicode::utf8_sequence_length("\xF4\x90\x80\x80", 0), 0u);  // past U+10FFFF
  std::string s;
  for (char32_t cp : {U'a', U'\u00E9', U'\u65E5', U'\U0001F642'}) unicode::append_utf8(s, cp);
  EXPECT_EQ(s, "a\xC3\xA9\xE6\x97\xA5\xF0\x9F\x99\x82");
}

TEST(TokenizerUnicode, Categories) {
  for (char32_t c : {U'a', U'Z', U'\u00E9', U'\u00AA', U'\u65E5', U'\u05D0', U'\u0E01', U'\uAC00', U'\U00020000'})
    EXPECT_TRUE(unicode::is_letter(c)) << static_cast<uint32_t>(c);
  for (char32_t c : {U'1', U'\u00B2', U'\u0663', U'\u2167', U'\u2460', U'\uFF16'})
    EXPECT_TRUE(unicode::is_number(c)) << static_cast<uint32_t>(c);
  for (char32_t c : {U' ', U'\t', U'\n', U'\u00A0', U'\u2003', U'\u3000', U'\u2028', U'\u0085'})
    EXPECT_TRUE(unicode::is_whitespace(c)) << static_cast<uint32_t>(c);
  for (char32_t c : {U'!', U'_', U'\u0301', U'\u200B', U'\U0001F642', U'\u2014'}) {
    EXPECT_FALSE(unicode::is_letter(c)) << static_cast<uint32_t>(c);
    EXPECT_FALSE(unicode::is_number(c)) << static_cast<uint32_t>(c);
    EXPECT_FALSE(unicode::is_whitespace(c)) << static_cast<uint32_t>(c);
  }
}

TEST(TokenizerUnicode, RecognisesThePatternsOfTokenizerJson) {
  EXPECT_EQ(memtx::data::recognise_split_pattern(
                R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)"),
            SplitPattern::Gpt2);
  EXPECT_FALSE(memtx::data::recognise_split_pattern(R"(\w+|\s+)"));
}

TEST(TokenizerUnicode, Gpt2Split) {
  const auto p = SplitPattern::Gpt2;
  EXPECT_EQ(split("I'M here  \n\n  x 12345 ...\r\n\tok", p),
            (Pieces{"I", "'", "M", " here", "  \n\n ", " x", " 12345", " ...", "\r\n", "\t", "ok"}));
  EXPECT_EQ(split("don't   stop!!\n", p), (Pieces{"don", "'t", "  ", " stop", "!!", "\n"}));
  EXPECT_EQ(split("a\xE3\x80\x80" "b", p), (Pieces{"a", "\xE3\x80\x80", "b"}));  // U+3000 is \s
  EXPECT_EQ(split("  leading", p), (Pieces{" ", " leading"}));
  EXPECT_EQ(split("end  ", p), (Pieces{"end", "  "}));
  EXPECT_EQ(split("", p), Pieces{});
  EXPECT_EQ(split("x\xFF\xFEy", p), (Pieces{"x", "\xFF\xFE", "y"}));  // invalid bytes: not \p{L}/\p{N}/\s
}

TEST(TokenizerUnicode, Llama3AndQwen2Split) {
  const std::string text = "I'M here  \n\n  x 12345 ...\r\n\tok";
  EXPECT_EQ(split(text, SplitPattern::Llama3),
            (Pieces{"I", "'M", " here", "  \n\n", " ", " x", " ", "123", "45", " ...\r\n", "\tok"}));
  EXPECT_EQ(split(text, SplitPattern::Qwen2),
            (Pieces{"I", "'M", " here", "  \n\n", " ", " x", " ", "1", "2", "3", "4", "5", " ...\r\n", "\tok"}));
  EXPECT_EQ(split("don't   stop!!\n", SplitPattern::Llama3), (Pieces{"don", "'t", "  ", " stop", "!!\n"}));
  // U+3000 joins the letters after it; Arabic-Indic digits are \p{N}.
  EXPECT_EQ(split("a\xE3\x80\x80" "b \xD9\xA3\xD9\xA4\xD9\xA5\xD9\xA6", SplitPattern::Llama3),
            (Pieces{"a", "\xE3\x80\x80" "b", " ", "\xD9\xA3\xD9\xA4\xD9\xA5", "\xD9\xA6"}));
}

TEST(TokenizerUnicode, Nfc) {
  using memtx::data::nfc;
  EXPECT_EQ(nfc("plain ascii"), "plain ascii");
  EXPECT_EQ(nfc("e\xCC\x81"), "\xC3\xA9");                       // e + U+0301 -> U+00E9
  EXPECT_EQ(nfc("a\xCC\x82\xCC\xA3"), "\xE1\xBA\xAD");           // reordered marks -> U+1EAD
  EXPECT_EQ(nfc("\xE2\x84\xAB"), "\xC3\x85");                    // ANGSTROM SIGN -> U+00C5
  EXPECT_EQ(nfc("\xE0\xA5\x98"), "\xE0\xA4\x95\xE0\xA4\xBC");    // U+0958 is excluded from composition
  EXPECT_EQ(nfc("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "\xEA\xB0\x81");  // Hangul L V T -> U+AC01
  EXPECT_EQ(nfc("e\xCC\x81\xCC\x81"), "\xC3\xA9\xCC\x81");       // the second acute is blocked
  EXPECT_EQ(nfc("e\xFF\xCC\x81"), "e\xFF\xCC\x81");              // an invalid byte blocks composition
}

}  // namespace
