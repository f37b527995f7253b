// tokenizer/tokenizer_sp_model.cpp: reads a SentencePiece ModelProto with the hand-written protobuf reader.
// Field numbers (sentencepiece_model.proto): SentencePiece {1 piece, 2 score, 3 type}; TrainerSpec
// {3 model_type, 24 treat_whitespace_as_suffix, 35 byte_fallback, 41 bos_id, 42 eos_id, 43 pad_id,
// 44 unk_surface}; NormalizerSpec {2 precompiled_charsmap, 3 add_dummy_prefix, 4 remove_extra_whitespaces,
// 5 escape_whitespaces}.
#include <cmath>
#include <unordered_set>

#include "tokenizer/tokenizer_errors.hpp"
#include "tokenizer/tokenizer_protobuf.hpp"
#include "tokenizer/tokenizer_sp_model.hpp"

namespace memtx::data {
namespace {

int32_t as_int32(uint64_t v) { return static_cast<int32_t>(static_cast<int64_t>(v)); }  // negative: 10 bytes

SpPiece read_piece(std::string_view bytes, const std::string& file) {
  SpPiece p;
  ProtoReader r(bytes, file);
  while (r.next()) {
    switch (r.field()) {
      case 1: p.piece = std::string(r.bytes()); break;
      case 2: p.score = r.fixed32_float(); break;
      case 3: {
        const uint64_t type = r.varint();
        if (type < 1 || type > 6) throw_io(file, "piece \"" + p.piece + "\" has unknown type " + std::to_string(type));
        p.type = static_cast<SpPieceType>(type);
        break;
      }
      default: r.skip();
    }
  }
  return p;
}

void read_trainer_spec(std::string_view bytes, const std::string& file, SpModel& m) {
  ProtoReader r(bytes, file);
  while (r.next()) {
    switch (r.field()) {
      case 3: {
        const uint64_t type = r.varint();
        if (type < 1 || type > 4) throw_io(file, "unknown model_type " + std::to_string(type));
        m.model_type = static_cast<SpModelType>(type);
        break;
      }
      case 24: m.treat_whitespace_as_suffix = r.varint() != 0; break;
      case 35: m.byte_fallback = r.varint() != 0; break;
      case 41: m.bos_id = as_int32(r.varint()); break;
      case 42: m.eos_id = as_int32(r.varint()); break;
      case 43: m.pad_id = as_int32(r.varint()); break;
      case 44: m.unk_surface = std::string(r.bytes()); break;
      default: r.skip();
    }
  }
}

void read_normalizer_spec(std::string_view bytes, const std::string& file, SpNormalizerSpec& n) {
  ProtoReader r(bytes, file);
  while (r.next()) {
    switch (r.field()) {
      case 2: n.precompiled_charsmap = std::string(r.bytes()); break;
      case 3: n.add_dummy_prefix = r.varint() != 0; break;
      case 4: n.remove_extra_whitespaces = r.varint() != 0; break;
      case 5: n.escape_whitespaces = r.varint() != 0; break;
      default: r.skip();
    }
  }
}

}  // namespace

SpModel parse_sentencepiece_model(std::string_view bytes, const std::string& file) {
  SpModel m;
  ProtoReader r(bytes, file);
  while (r.next()) {
    switch (r.field()) {
      case 1: m.pieces.push_back(read_piece(r.bytes(), file)); break;
      case 2: read_trainer_spec(r.bytes(), file, m); break;
      case 3: read_normalizer_spec(r.bytes(), file, m.normalizer); break;
      default: r.skip();
    }
  }
  if (m.pieces.empty()) throw_io(file, "not a SentencePiece model (no pieces)");
  std::unordered_set<std::string_view> seen;
  int unknown = 0;
  for (size_t i = 0; i < m.pieces.size(); ++i) {
    const SpPiece& p = m.pieces[i];
    // Scores order the segmentations: a NaN compares false both ways and an infinity swamps every sum.
    if (!std::isfinite(p.score))
      throw_io(file, "piece " + std::to_string(i) + " (\"" + p.piece + "\") has the score " +
                         (std::isnan(p.score) ? std::string("NaN") : std::string(p.score > 0 ? "inf" : "-inf")) +
                         "; scores must be finite");
    if (p.piece.empty()) throw_io(file, "a piece is empty");
    if (!seen.insert(p.piece).second) throw_io(file, "piece \"" + p.piece + "\" appears twice");
    if (p.type == SpPieceType::Unknown) ++unknown;
  }
  if (unknown != 1) throw_io(file, "the model must have exactly one unknown piece, it has " + std::to_string(unknown));
  return m;
}

}  // namespace memtx::data
