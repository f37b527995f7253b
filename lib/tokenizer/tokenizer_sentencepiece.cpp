// tokenizer/tokenizer_sentencepiece.cpp: the SentencePiece tokenizer over a parsed SpModel: CONTROL pieces split
// out of the text, the normalizer, then the model: unigram (Viterbi: the segmentation with the highest sum
// of piece scores; characters without a piece become the unknown piece, scored min_score - 10), BPE
// (repeatedly merge the adjacent pair whose concatenation is the piece with the highest score, leftmost
// first; UNUSED pieces are split back into the pair that formed them), WORD and CHAR. Unknown pieces
// become <0xNN> byte pieces with byte_fallback, else runs of them one unknown id.
#include "tokenizer/tokenizer_sentencepiece.hpp"

#include <algorithm>
#include <cfloat>
#include <iterator>
#include <limits>
#include <unordered_map>

#include "tokenizer/tokenizer_errors.hpp"
#include "tokenizer/tokenizer_merge.hpp"
#include "tokenizer/tokenizer_sp_model.hpp"
#include "tokenizer/tokenizer_sp_normalizer.hpp"
#include "tokenizer/tokenizer_specials.hpp"
#include "tokenizer/tokenizer_trie.hpp"
#include "tokenizer/tokenizer_unicode.hpp"

namespace memtx::data {
namespace {

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";  // "▁"
constexpr float kUnknownPenalty = 10.0f;

// A piece of the normalized text and its id (-1: unknown).
struct Span {
  size_t begin;
  size_t end;
  int32_t id;
};

size_t char_length(std::string_view text, size_t pos) {
  const size_t n = unicode::utf8_sequence_length(text, pos);
  return n == 0 ? 1 : n;
}

std::vector<std::string> user_defined_pieces(const SpModel& m) {
  std::vector<std::string> out;
  for (const SpPiece& p : m.pieces)
    if (p.type == SpPieceType::UserDefined) out.push_back(p.piece);
  return out;
}

// "<0x41>" -> 0x41, -1 when the piece is not of that form.
int byte_of_piece(const std::string& piece) {
  if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>') return -1;
  auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; };
  const int hi = hex(piece[3]), lo = hex(piece[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

class SentencePieceTokenizer final : public Tokenizer {
 public:
  SentencePieceTokenizer(SpModel model, const std::string& file)
      : m_(std::move(model)), normalizer_(m_.normalizer, user_defined_pieces(m_), file) {
    if (m_.treat_whitespace_as_suffix) throw_unsupported(file, "SentencePiece option treat_whitespace_as_suffix");
    std::fill(std::begin(byte_ids_), std::end(byte_ids_), -1);
    std::vector<SpecialToken> controls;
    for (size_t i = 0; i < m_.pieces.size(); ++i) {
      const SpPiece& p = m_.pieces[i];
      const auto id = static_cast<int32_t>(i);
      ids_.emplace(p.piece, id);
      switch (p.type) {
        case SpPieceType::Normal:
          min_score_ = std::min(min_score_, p.score);
          max_score_ = std::max(max_score_, p.score);
          [[fallthrough]];
        case SpPieceType::UserDefined:
          trie_.insert(p.piece, id);
          [[fallthrough]];
        case SpPieceType::Unused:
          mergeable_.emplace(p.piece, id);
          break;
        case SpPieceType::Unknown: unk_id_ = id; break;
        case SpPieceType::Control: controls.push_back({p.piece, id}); break;
        case SpPieceType::Byte:
          if (const int b = byte_of_piece(p.piece); b >= 0) byte_ids_[b] = id;
          break;
      }
    }
    if (m_.byte_fallback)
      for (int b = 0; b < 256; ++b)
        if (byte_ids_[b] < 0) throw_io(file, "byte_fallback is set but piece <0x" + hex_byte(b) + "> is missing");
    specials_ = SpecialSplitter(std::move(controls));
    for (int b = 0; b < 256; ++b)
      if (byte_ids_[b] >= 0) byte_of_id_[byte_ids_[b]] = b;
  }

  std::vector<int64_t> encode(const std::string& text) const override {
    std::vector<int64_t> ids;
    for (const TextSegment& seg : specials_.split(text)) {
      if (seg.id >= 0) {
        ids.push_back(seg.id);
        continue;
      }
      const std::string normalized = normalizer_.normalize(std::string_view(text).substr(seg.begin, seg.end - seg.begin));
      std::vector<Span> spans;
      switch (m_.model_type) {
        case SpModelType::Unigram: spans = viterbi(normalized); break;
        case SpModelType::Bpe: spans = bpe(normalized); break;
        case SpModelType::Word: spans = words(normalized); break;
        case SpModelType::Char: spans = chars(normalized); break;
      }
      emit(normalized, spans, ids);
    }
    return ids;
  }

  std::string decode(const std::vector<int64_t>& ids) const override {
    std::string out;
    std::string bytes;        // pending <0xNN> pieces
    bool text_start = true;   // nothing decoded since the start or the last control piece
    const bool strip_dummy = m_.normalizer.add_dummy_prefix || m_.normalizer.remove_extra_whitespaces;
    for (int64_t id : ids) {
      if (id < 0 || id >= vocab_size()) throw_invalid_id("sentencepiece", id, vocab_size());
      const SpPiece& p = m_.pieces[static_cast<size_t>(id)];
      if (p.type == SpPieceType::Byte && byte_of_id_.count(static_cast<int32_t>(id))) {
        bytes += static_cast<char>(byte_of_id_.at(static_cast<int32_t>(id)));
        continue;
      }
      if (!bytes.empty()) {
        out += bytes;
        bytes.clear();
        text_start = false;
      }
      if (p.type == SpPieceType::Control) {
        out += p.piece;
        text_start = true;
        continue;
      }
      std::string_view piece = p.type == SpPieceType::Unknown ? std::string_view(m_.unk_surface) : p.piece;
      if (text_start && strip_dummy && p.type != SpPieceType::Unknown && piece.substr(0, 3) == kSpaceSymbol)
        piece.remove_prefix(kSpaceSymbol.size());
      for (size_t i = 0; i < piece.size();) {
        if (piece.substr(i, 3) == kSpaceSymbol) {
          out += ' ';
          i += 3;
        } else {
          out += piece[i++];
        }
      }
      if (!piece.empty()) text_start = false;
    }
    out += bytes;
    return out;
  }

  int64_t vocab_size() const override { return static_cast<int64_t>(m_.pieces.size()); }
  std::optional<int64_t> token_id(const std::string& special) const override {
    auto it = ids_.find(special);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<int64_t> eos_id() const override { return valid(m_.eos_id); }
  std::optional<int64_t> bos_id() const override { return valid(m_.bos_id); }
  std::optional<int64_t> pad_id() const override {
    if (auto pad = valid(m_.pad_id)) return pad;
    return eos_id();
  }
  std::string kind() const override { return "sentencepiece"; }

 private:
  static std::string hex_byte(int b) {
    const char* digits = "0123456789ABCDEF";
    return {digits[b >> 4], digits[b & 15]};
  }
  std::optional<int64_t> valid(int32_t id) const {
    if (id < 0 || id >= vocab_size()) return std::nullopt;
    return id;
  }
  int32_t lookup(std::string_view s, const std::unordered_map<std::string, int32_t>& map) const {
    auto it = map.find(std::string(s));
    return it == map.end() ? -1 : it->second;
  }

  // Viterbi as SentencePiece computes it: path scores are stored as float, but a piece's candidate score is
  // formed and compared in double (the unknown piece's in float), which decides near-ties the same way.
  std::vector<Span> viterbi(const std::string& text) const {
    const size_t n = text.size();
    const float unk_score = min_score_ - kUnknownPenalty;
    std::vector<float> best(n + 1, 0.0f);
    std::vector<size_t> from(n + 1, 0);
    std::vector<int32_t> via(n + 1, -1);
    std::vector<bool> reached(n + 1, false);
    reached[0] = true;
    for (size_t pos = 0; pos < n; ++pos) {
      if (!reached[pos]) continue;
      const size_t clen = char_length(text, pos);
      bool single = false;
      trie_.prefixes(text, pos, [&](size_t len, int32_t id) {
        const SpPiece& p = m_.pieces[static_cast<size_t>(id)];
        const double score = p.type == SpPieceType::UserDefined ? static_cast<double>(len) * max_score_ - 0.1
                                                                 : static_cast<double>(p.score);
        const double candidate = score + best[pos];
        if (!reached[pos + len] || candidate > best[pos + len]) {
          reached[pos + len] = true;
          best[pos + len] = static_cast<float>(candidate);
          from[pos + len] = pos;
          via[pos + len] = id;
        }
        if (len == clen) single = true;
      });
      if (!single) {
        const float candidate = unk_score + best[pos];
        if (!reached[pos + clen] || candidate > best[pos + clen]) {
          reached[pos + clen] = true;
          best[pos + clen] = candidate;
          from[pos + clen] = pos;
          via[pos + clen] = -1;
        }
      }
    }
    std::vector<Span> spans;
    for (size_t end = n; end > 0; end = from[end]) spans.push_back({from[end], end, via[end]});
    return {spans.rbegin(), spans.rend()};
  }

  std::vector<Span> bpe(const std::string& text) const {
    std::vector<MergeSymbol> symbols;  // user-defined pieces start whole and frozen
    for (size_t pos = 0; pos < text.size();) {
      size_t user = 0;
      int32_t user_id = -1;
      trie_.prefixes(text, pos, [&](size_t len, int32_t id) {
        if (m_.pieces[static_cast<size_t>(id)].type == SpPieceType::UserDefined) {
          user = len;
          user_id = id;
        }
      });
      const size_t len = user > 0 ? user : char_length(text, pos);
      const int32_t id = user > 0 ? user_id : lookup(std::string_view(text).substr(pos, len), mergeable_);
      symbols.push_back({id, static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + len), user > 0});
      pos += len;
    }
    // Pairs that formed an UNUSED piece, to split it again at the end (the last pair seen wins).
    std::unordered_map<std::string, std::pair<std::string, std::string>> formed_by;
    auto merge = [&](const MergeSymbol& a, const MergeSymbol& b) -> std::optional<std::pair<double, int32_t>> {
      const std::string_view joined = std::string_view(text).substr(a.begin, b.end - a.begin);
      const int32_t id = lookup(joined, mergeable_);
      if (id < 0) return std::nullopt;
      if (m_.pieces[static_cast<size_t>(id)].type == SpPieceType::Unused)
        formed_by[std::string(joined)] = {text.substr(a.begin, a.end - a.begin), text.substr(b.begin, b.end - b.begin)};
      return std::make_pair(-static_cast<double>(m_.pieces[static_cast<size_t>(id)].score), id);
    };
    std::vector<Span> spans;
    for (const MergeSymbol& s : merge_symbols(std::move(symbols), merge))
      resegment(text, s.begin, s.end, s.id, formed_by, spans);
    return spans;
  }

  void resegment(const std::string& text, size_t begin, size_t end, int32_t id,
                 const std::unordered_map<std::string, std::pair<std::string, std::string>>& formed_by,
                 std::vector<Span>& spans) const {
    if (id < 0 || m_.pieces[static_cast<size_t>(id)].type != SpPieceType::Unused) {
      spans.push_back({begin, end, id});
      return;
    }
    auto it = formed_by.find(text.substr(begin, end - begin));
    if (it == formed_by.end()) {
      spans.push_back({begin, end, id});
      return;
    }
    const size_t mid = begin + it->second.first.size();
    resegment(text, begin, mid, lookup(it->second.first, mergeable_), formed_by, spans);
    resegment(text, mid, end, lookup(it->second.second, mergeable_), formed_by, spans);
  }

  // WORD: a word starts at each "▁".
  std::vector<Span> words(const std::string& text) const {
    std::vector<Span> spans;
    size_t begin = 0;
    for (size_t pos = 0; pos <= text.size();) {
      const bool at_end = pos == text.size();
      if (at_end || (pos > begin && std::string_view(text).substr(pos, 3) == kSpaceSymbol)) {
        if (pos > begin) spans.push_back({begin, pos, lookup(std::string_view(text).substr(begin, pos - begin), ids_)});
        begin = pos;
        if (at_end) break;
      }
      pos += char_length(text, pos);
    }
    for (Span& s : spans)
      if (s.id >= 0 && m_.pieces[static_cast<size_t>(s.id)].type != SpPieceType::Normal &&
          m_.pieces[static_cast<size_t>(s.id)].type != SpPieceType::UserDefined)
        s.id = -1;
    return spans;
  }

  std::vector<Span> chars(const std::string& text) const {
    std::vector<Span> spans;
    for (size_t pos = 0; pos < text.size();) {
      const size_t len = char_length(text, pos);
      int32_t id = lookup(std::string_view(text).substr(pos, len), mergeable_);
      if (id >= 0 && m_.pieces[static_cast<size_t>(id)].type == SpPieceType::Unused) id = -1;
      spans.push_back({pos, pos + len, id});
      pos += len;
    }
    return spans;
  }

  void emit(const std::string& text, const std::vector<Span>& spans, std::vector<int64_t>& ids) const {
    bool prev_unknown = false;
    for (const Span& s : spans) {
      if (s.id >= 0) {
        ids.push_back(s.id);
        prev_unknown = false;
      } else if (m_.byte_fallback) {
        for (size_t i = s.begin; i < s.end; ++i) ids.push_back(byte_ids_[static_cast<unsigned char>(text[i])]);
        prev_unknown = false;
      } else {
        if (!prev_unknown) ids.push_back(unk_id_);
        prev_unknown = true;
      }
    }
  }

  SpModel m_;
  SpNormalizer normalizer_;
  std::unordered_map<std::string, int32_t> ids_;        // every piece
  std::unordered_map<std::string, int32_t> mergeable_;  // NORMAL, USER_DEFINED, UNUSED
  ByteTrie trie_;                                       // NORMAL and USER_DEFINED
  SpecialSplitter specials_;                            // CONTROL
  int32_t unk_id_ = 0;
  int32_t byte_ids_[256];
  std::unordered_map<int32_t, int> byte_of_id_;
  float min_score_ = FLT_MAX;
  float max_score_ = FLT_MIN;
};

}  // namespace

std::unique_ptr<Tokenizer> make_sentencepiece_tokenizer(const std::string& model, const std::string& file) {
  return std::make_unique<SentencePieceTokenizer>(parse_sentencepiece_model(model, file), file);
}

}  // namespace memtx::data
