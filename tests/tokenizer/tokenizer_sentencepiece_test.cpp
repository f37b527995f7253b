// tests/tokenizer/tokenizer_sentencepiece_test.cpp: SentencePiece .model files written here byte by byte (the
// ModelProto wire format, no libprotobuf): unigram Viterbi, BPE by score, WORD, CHAR, byte fallback,
// unknown pieces, control and user-defined pieces, the normalizer (with a hand-built precompiled charsmap),
// decoding, and malformed or unsupported files. Expected ids are worked out by hand in the comments.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/error_of.hpp"
#include "memtx/error.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/tokenizer_sentencepiece.hpp"
#include "tokenizer/tokenizer_sp_normalizer.hpp"

namespace {

using memtx::Error;
using memtx::StatusCode;
using Ids = std::vector<int64_t>;

// ---- writing .model files ----


inline std::string pb_varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}
inline std::string pb_tag(int field, int wire) { return pb_varint(static_cast<uint64_t>(field) << 3 | wire); }
inline std::string pb_uint(int field, uint64_t v) { return pb_tag(field, 0) + pb_varint(v); }
inline std::string pb_int(int field, int64_t v) { return pb_uint(field, static_cast<uint64_t>(v)); }
inline std::string pb_bytes(int field, const std::string& s) { return pb_tag(field, 2) + pb_varint(s.size()) + s; }
inline std::string pb_float(int field, float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  std::string out = pb_tag(field, 5);
  for (int i = 0; i < 4; ++i) out += static_cast<char>((bits >> (8 * i)) & 0xFF);
  return out;
}

enum PieceType { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct TestPiece {
  std::string piece;
  float score;
  int type = kNormal;
};

struct TestModel {
  std::vector<TestPiece> pieces;
  int model_type = 1;  // 1 unigram, 2 BPE, 3 word, 4 char
  bool byte_fallback = false;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
  std::string charsmap;
  std::string trainer_extra;  // more TrainerSpec fields, already encoded

  // <unk>, <s>, </s> first, as spm_train writes them.
  static TestModel with_defaults(int model_type) {
    TestModel m;
    m.model_type = model_type;
    m.pieces = {{"<unk>", 0, kUnknown}, {"<s>", 0, kControl}, {"</s>", 0, kControl}};
    return m;
  }
  int add(const std::string& piece, float score, int type = kNormal) {
    pieces.push_back({piece, score, type});
    return static_cast<int>(pieces.size()) - 1;
  }
  void add_byte_pieces() {
    const char* hex = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) add(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">", 0, kByte);
  }
  std::string serialize() const {
    std::string out;
    for (const TestPiece& p : pieces)
      out += pb_bytes(1, pb_bytes(1, p.piece) + pb_float(2, p.score) + pb_uint(3, static_cast<uint64_t>(p.type)));
    out += pb_bytes(2, pb_uint(3, static_cast<uint64_t>(model_type)) + pb_uint(4, pieces.size()) +
                           pb_uint(35, byte_fallback ? 1 : 0) + pb_int(43, -1) + trainer_extra);
    std::string norm = pb_bytes(1, charsmap.empty() ? "identity" : "custom");
    if (!charsmap.empty()) norm += pb_bytes(2, charsmap);
    norm += pb_uint(3, add_dummy_prefix) + pb_uint(4, remove_extra_whitespaces) + pb_uint(5, escape_whitespaces);
    out += pb_bytes(3, norm);
    return out;
  }
};

// A precompiled charsmap: uint32 trie size, a darts-clone double array over the keys' bytes whose values
// are offsets into the blob of NUL-terminated replacements.
inline std::string build_charsmap(const std::map<std::string, std::string>& rules) {
  struct Node {
    std::map<unsigned char, std::unique_ptr<Node>> kids;
    int64_t value = -1;
  };
  Node root;
  std::string blob;
  for (const auto& [from, to] : rules) {
    Node* n = &root;
    for (unsigned char c : from) {
      auto& k = n->kids[c];
      if (!k) k = std::make_unique<Node>();
      n = k.get();
    }
    n->value = static_cast<int64_t>(blob.size());
    blob += to;
    blob += '\0';
  }
  std::vector<uint32_t> units(1, 0);
  std::vector<bool> used(1, true);
  std::vector<bool> base_taken;  // a base serves one parent only, or paths would cross
  auto ensure = [&](size_t i) {
    if (i >= units.size()) {
      units.resize(i + 1, 0);
      used.resize(i + 1, false);
    }
  };
  // Children of the unit at p live at base ^ label, its value (if any) at base; the unit stores p ^ base.
  auto place = [&](auto&& self, const Node& node, size_t p) -> void {
    size_t base = 1;
    for (;; ++base) {
      if (base < base_taken.size() && base_taken[base]) continue;
      bool ok = true;
      if (node.value >= 0) {
        ensure(base);
        ok = !used[base];
      }
      for (const auto& kid : node.kids) {
        ensure(base ^ kid.first);
        if (used[base ^ kid.first]) ok = false;
      }
      if (ok) break;
    }
    if (base >= base_taken.size()) base_taken.resize(base + 1, false);
    base_taken[base] = true;
    units[p] |= static_cast<uint32_t>(p ^ base) << 10;
    if (node.value >= 0) {
      units[p] |= 1u << 8;
      used[base] = true;
      units[base] = (1u << 31) | static_cast<uint32_t>(node.value);
    }
    for (const auto& kid : node.kids) {
      used[base ^ kid.first] = true;
      units[base ^ kid.first] = kid.first;
    }
    for (const auto& kid : node.kids) self(self, *kid.second, base ^ kid.first);
  };
  place(place, root, 0);
  std::string out;
  auto put32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  put32(static_cast<uint32_t>(units.size() * 4));
  for (uint32_t u : units) put32(u);
  return out + blob;
}


// ---- tests ----

std::unique_ptr<memtx::data::Tokenizer> load(const TestModel& m) {
  return memtx::data::make_sentencepiece_tokenizer(m.serialize(), "test.model");
}

using memtx_test::code_of;

const std::string U = "\xE2\x96\x81";  // "▁"

// ids: 0 <unk>, 1 <s>, 2 </s>, 3 ▁, 4 ▁a, 5 b, 6 a, 7 ab, 8 ▁ab, 9 c, 10 <sep> (user-defined)
TestModel unigram() {
  TestModel m = TestModel::with_defaults(1);
  m.add(U, -2.0f);
  m.add(U + "a", -3.0f);
  m.add("b", -2.5f);
  m.add("a", -2.0f);
  m.add("ab", -4.0f);
  m.add(U + "ab", -6.5f);
  m.add("c", -5.0f);
  m.add("<sep>", 0.0f, kUserDefined);
  return m;
}

TEST(TokenizerSentencePiece, UnigramViterbiPicksTheBestTotalScore) {
  auto tok = load(unigram());
  EXPECT_EQ(tok->kind(), "sentencepiece");
  EXPECT_EQ(tok->vocab_size(), 11);
  // "▁ab": ▁a+b = -5.5 beats ▁+ab = -6, ▁ab = -6.5 (the longest piece) and ▁+a+b = -6.5.
  EXPECT_EQ(tok->encode("ab"), (Ids{4, 5}));
  // "▁ab▁c": ▁a+b+▁+c = -12.5 beats ▁ab+▁+c = -13.5.
  EXPECT_EQ(tok->encode("ab c"), (Ids{4, 5, 3, 9}));
  EXPECT_EQ(tok->decode({4, 5, 3, 9}), "ab c");
  EXPECT_EQ(tok->decode({8}), "ab");
  // Extra whitespace is removed by the normalizer.
  EXPECT_EQ(tok->encode("   ab    c  "), (Ids{4, 5, 3, 9}));
  EXPECT_EQ(tok->encode(""), Ids{});
  EXPECT_EQ(tok->encode("   "), Ids{});
}

TEST(TokenizerSentencePiece, UnknownCharactersMergeIntoOneUnknownId) {
  auto tok = load(unigram());
  EXPECT_EQ(tok->encode("abz"), (Ids{4, 5, 0}));
  EXPECT_EQ(tok->encode("zz"), (Ids{3, 0}));      // "▁" then one <unk> for "zz"
  EXPECT_EQ(tok->encode("zbz"), (Ids{3, 0, 5, 0}));
  EXPECT_EQ(tok->decode({4, 5, 0}), "ab \xE2\x81\x87 ");  // <unk> decodes to " ⁇ "
}

TEST(TokenizerSentencePiece, ControlAndUserDefinedPieces) {
  auto tok = load(unigram());
  EXPECT_EQ(tok->encode("<s>ab</s>"), (Ids{1, 4, 5, 2}));
  EXPECT_EQ(tok->decode({1, 4, 5, 2}), "<s>ab</s>");
  EXPECT_EQ(tok->encode("ab</s>ab"), (Ids{4, 5, 2, 4, 5}));  // each stretch gets its dummy prefix
  EXPECT_EQ(tok->decode({4, 5, 2, 4, 5}), "ab</s>ab");
  // A user-defined piece is kept whole (score 5 * max_score - 0.1 beats any split).
  EXPECT_EQ(tok->encode("a<sep>b"), (Ids{4, 10, 5}));
  EXPECT_EQ(tok->decode({4, 10, 5}), "a<sep>b");
  EXPECT_EQ(tok->token_id("<s>"), 1);
  EXPECT_EQ(tok->token_id("<unk>"), 0);
  EXPECT_FALSE(tok->token_id("<nope>"));
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_EQ(tok->pad_id(), 2);  // pad_id -1 in the model: eos stands in
}

TEST(TokenizerSentencePiece, ByteFallback) {
  TestModel m = unigram();
  m.byte_fallback = true;
  m.add_byte_pieces();  // <0x00> = 11 ... <0xFF> = 266
  auto tok = load(m);
  EXPECT_EQ(tok->encode("az"), (Ids{4, 11 + 0x7A}));
  // "é" is C3 A9: one byte piece per byte, after the "▁" piece.
  EXPECT_EQ(tok->encode("\xC3\xA9"), (Ids{3, 11 + 0xC3, 11 + 0xA9}));
  for (const std::string s : {"az", "\xC3\xA9 ab", "z\xF0\x9F\x99\x82z", "a<sep>zz b"})
    EXPECT_EQ(tok->decode(tok->encode(s)), s);
  // Invalid UTF-8 is normalized to U+FFFD (EF BF BD) first, as SentencePiece does.
  EXPECT_EQ(tok->decode(tok->encode("a\xFF")), "a\xEF\xBF\xBD");
}

// ids: 0-2 specials, 3 ▁, 4 a, 5 b, 6 c, 7 ab, 8 bc, 9 aa, 10 x, 11 y, 12 xy (UNUSED), 13 ▁c
TestModel bpe(float ab_score, float bc_score) {
  TestModel m = TestModel::with_defaults(2);
  m.add(U, -1.0f);
  m.add("a", -1.0f);
  m.add("b", -1.0f);
  m.add("c", -1.0f);
  m.add("ab", ab_score);
  m.add("bc", bc_score);
  m.add("aa", -2.5f);
  m.add("x", -1.0f);
  m.add("y", -1.0f);
  m.add("xy", -1.0f, kUnused);
  m.add(U + "c", -0.5f);
  return m;
}

TEST(TokenizerSentencePiece, BpeMergesTheHighestScoringPairFirst) {
  // "▁abc": ab (-2) outranks bc (-3): ▁ ab c, and "abc" is no piece.
  auto tok = load(bpe(-2.0f, -3.0f));
  EXPECT_EQ(tok->encode("abc"), (Ids{3, 7, 6}));
  // With bc at -1.5 it goes first: ▁ a bc.
  EXPECT_EQ(load(bpe(-2.0f, -1.5f))->encode("abc"), (Ids{3, 4, 8}));
  // Equal scores: leftmost first. "▁aaa" -> ▁ aa a.
  EXPECT_EQ(tok->encode("aaa"), (Ids{3, 9, 4}));
  EXPECT_EQ(tok->encode("c"), (Ids{13}));
  EXPECT_EQ(tok->encode("q"), (Ids{3, 0}));
  // An UNUSED piece formed by a merge is split back into the pair that formed it.
  EXPECT_EQ(tok->encode("xy"), (Ids{3, 10, 11}));
  EXPECT_EQ(tok->decode({3, 7, 6, 13}), "abc c");
}

TEST(TokenizerSentencePiece, WordAndCharModels) {
  TestModel w = TestModel::with_defaults(3);
  w.add(U + "hello", -1.0f);  // 3
  w.add(U + "world", -1.0f);  // 4
  auto word = load(w);
  EXPECT_EQ(word->encode("hello world"), (Ids{3, 4}));
  EXPECT_EQ(word->encode("hello there"), (Ids{3, 0}));
  EXPECT_EQ(word->decode({3, 4}), "hello world");

  TestModel c = TestModel::with_defaults(4);
  c.add(U, -1.0f);  // 3
  c.add("a", -1.0f);  // 4
  c.add("b", -1.0f);  // 5
  auto chars = load(c);
  EXPECT_EQ(chars->encode("ab a"), (Ids{3, 4, 5, 3, 4}));
  EXPECT_EQ(chars->encode("ac"), (Ids{3, 4, 0}));
}

TEST(TokenizerSentencePiece, NormalizerWhitespaceOptions) {
  using memtx::data::SpNormalizer;
  using memtx::data::SpNormalizerSpec;
  SpNormalizerSpec spec;
  EXPECT_EQ(SpNormalizer(spec, {}, "f").normalize("  a   b  "), U + "a" + U + "b");
  EXPECT_EQ(SpNormalizer(spec, {}, "f").normalize("a\xFF" "b"), U + "a\xEF\xBF\xBD" + "b");
  spec.remove_extra_whitespaces = false;
  EXPECT_EQ(SpNormalizer(spec, {}, "f").normalize(" a  b "), U + U + "a" + U + U + "b" + U);
  spec.remove_extra_whitespaces = true;
  spec.escape_whitespaces = false;
  EXPECT_EQ(SpNormalizer(spec, {}, "f").normalize(" a  b "), " a b");
  spec.escape_whitespaces = true;
  spec.add_dummy_prefix = false;
  EXPECT_EQ(SpNormalizer(spec, {}, "f").normalize("a b"), "a" + U + "b");
}

TEST(TokenizerSentencePiece, PrecompiledCharsmapLongestMatch) {
  using memtx::data::SpNormalizer;
  using memtx::data::SpNormalizerSpec;
  SpNormalizerSpec spec;
  // FULLWIDTH A -> A, "ab" -> X (longer than "a"), "a" -> Y, tab -> space, ZERO WIDTH SPACE -> nothing.
  spec.precompiled_charsmap = build_charsmap(
      {{"\xEF\xBC\xA1", "A"}, {"ab", "X"}, {"a", "Y"}, {"\t", " "}, {"\xE2\x80\x8B", ""}});
  SpNormalizer n(spec, {}, "f");
  EXPECT_EQ(n.normalize("\xEF\xBC\xA1" "ab\ta"), U + "AX" + U + "Y");
  EXPECT_EQ(n.normalize("\t\tb\xE2\x80\x8B\t"), U + "b");
  EXPECT_EQ(n.normalize("ca"), U + "cY");
  // User-defined pieces pass through verbatim.
  EXPECT_EQ(SpNormalizer(spec, {"ab"}, "f").normalize("ab a"), U + "ab" + U + "Y");
  // Through a whole model: "Ａ" is encoded as the piece "A".
  TestModel m = TestModel::with_defaults(1);
  m.add(U, -1.0f);  // 3
  m.add("A", -1.0f);  // 4
  m.charsmap = spec.precompiled_charsmap;
  EXPECT_EQ(load(m)->encode("\xEF\xBC\xA1"), (Ids{3, 4}));
  spec.precompiled_charsmap = std::string("\x10\x00\x00\x00\x01", 5);  // trie larger than the map
  EXPECT_EQ(code_of([&] { SpNormalizer(spec, {}, "f"); }), StatusCode::Io);
}

TEST(TokenizerSentencePiece, InvalidIdsInDecode) {
  auto tok = load(unigram());
  std::string message;
  EXPECT_EQ(code_of([&] { tok->decode({11}); }, &message), StatusCode::InvalidArgument);
  EXPECT_NE(message.find("11"), std::string::npos) << message;
  EXPECT_EQ(code_of([&] { tok->decode({-3}); }), StatusCode::InvalidArgument);
}

TEST(TokenizerSentencePiece, MalformedAndUnsupportedModels) {
  std::string message;
  const std::string good = unigram().serialize();
  EXPECT_EQ(code_of([&] { memtx::data::make_sentencepiece_tokenizer(good.substr(0, good.size() - 3), "cut.model"); },
                    &message),
            StatusCode::Io);
  EXPECT_NE(message.find("cut.model"), std::string::npos) << message;
  EXPECT_EQ(code_of([&] { memtx::data::make_sentencepiece_tokenizer("", "empty.model"); }), StatusCode::Io);
  EXPECT_EQ(code_of([&] { memtx::data::make_sentencepiece_tokenizer("\x0b\x0c", "group.model"); }), StatusCode::Io);

  TestModel no_unk = unigram();
  no_unk.pieces[0].type = kNormal;
  EXPECT_EQ(code_of([&] { load(no_unk); }, &message), StatusCode::Io);
  EXPECT_NE(message.find("unknown piece"), std::string::npos) << message;

  TestModel dup = unigram();
  dup.add("b", -1.0f);
  EXPECT_EQ(code_of([&] { load(dup); }), StatusCode::Io);

  TestModel no_bytes = unigram();
  no_bytes.byte_fallback = true;
  EXPECT_EQ(code_of([&] { load(no_bytes); }), StatusCode::Io);

  TestModel bad_type = unigram();
  bad_type.model_type = 9;
  EXPECT_EQ(code_of([&] { load(bad_type); }), StatusCode::Io);

  TestModel suffix = unigram();
  suffix.trainer_extra = pb_uint(24, 1);
  EXPECT_EQ(code_of([&] { load(suffix); }, &message), StatusCode::Config);
  EXPECT_NE(message.find("treat_whitespace_as_suffix"), std::string::npos) << message;
}

TEST(TokenizerSentencePiece, NonFiniteScoresAreRefusedNamingThePiece) {
  for (const float score : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity()}) {
    TestModel m = unigram();
    const int index = m.add("zz", score);
    std::string message;
    EXPECT_EQ(code_of([&] { load(m); }, &message), StatusCode::Io);
    EXPECT_NE(message.find("piece " + std::to_string(index) + " (\"zz\") has the score"), std::string::npos) << message;
    EXPECT_NE(message.find("scores must be finite"), std::string::npos) << message;
  }
}

TEST(TokenizerSentencePiece, LoadsModelFilesAndFolders) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(::testing::TempDir()) / "memtx_sp_load";
  fs::create_directories(dir);
  {
    std::ofstream(dir / "tokenizer.model", std::ios::binary) << unigram().serialize();
  }
  auto from_file = memtx::data::load_tokenizer((dir / "tokenizer.model").string());
  EXPECT_EQ(from_file->kind(), "sentencepiece");
  EXPECT_EQ(from_file->encode("ab c"), (Ids{4, 5, 3, 9}));
  EXPECT_EQ(memtx::data::load_tokenizer(dir.string())->encode("ab"), (Ids{4, 5}));
  fs::remove_all(dir);
}

}  // namespace
