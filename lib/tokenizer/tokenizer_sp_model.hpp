// tokenizer/tokenizer_sp_model.hpp: the parts of SentencePiece's ModelProto that encoding and decoding use,
// read from a .model file's bytes by parse_sentencepiece_model (tokenizer_sp_model.cpp).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer_sp_normalizer.hpp"

namespace memtx::data {

enum class SpPieceType : int { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };
enum class SpModelType : int { Unigram = 1, Bpe = 2, Word = 3, Char = 4 };

struct SpPiece {
  std::string piece;
  float score = 0.0f;
  SpPieceType type = SpPieceType::Normal;
};

struct SpModel {
  std::vector<SpPiece> pieces;  // index = id
  SpModelType model_type = SpModelType::Unigram;
  bool byte_fallback = false;
  bool treat_whitespace_as_suffix = false;
  int32_t bos_id = 1;  // TrainerSpec defaults; -1 disables
  int32_t eos_id = 2;
  int32_t pad_id = -1;
  std::string unk_surface = " \xE2\x81\x87 ";  // " ⁇ ", what the unknown piece decodes to
  SpNormalizerSpec normalizer;
};

// Parses ModelProto {1: pieces, 2: trainer_spec, 3: normalizer_spec}; unknown fields are skipped.
// Error(Io) naming file for malformed bytes or an inconsistent model (no pieces, no unknown piece,
// duplicate pieces, bad piece types).
SpModel parse_sentencepiece_model(std::string_view bytes, const std::string& file);

}  // namespace memtx::data
