// tokenizer/tokenizer_sentencepiece.hpp: SentencePiece .model files, read without libsentencepiece: the
// ModelProto protobuf is parsed by hand (tokenizer_protobuf) and the models are implemented here:
// unigram (Viterbi over piece scores), BPE (merge by piece score), WORD and CHAR; the normalizer
// (precompiled charsmap, extra-whitespace removal, "▁" escaping, dummy prefix); byte fallback (<0xNN>
// pieces) and the unknown piece. Checked against libsentencepiece 0.1.97 on trained models of every type.
// CONTROL pieces written in the text (e.g. "<s>") become their ids and decode to their text (libsentencepiece
// ignores both ways); each plain stretch between them is normalized and encoded separately. bos/eos/pad come
// from the TrainerSpec ids (pad falls back to eos). treat_whitespace_as_suffix is not supported.
#pragma once
#include <memory>
#include <string>

#include "tokenizer/tokenizer.hpp"

namespace memtx::data {

// model: the bytes of a .model file; file names it in errors (Error(Io) for a malformed one,
// Error(Config) for unsupported settings).
std::unique_ptr<Tokenizer> make_sentencepiece_tokenizer(const std::string& model, const std::string& file);

}  // namespace memtx::data
