// fuzz/sentencepiece_fuzz.cpp: fuzzes the SentencePiece .model reader (lib/tokenizer/tokenizer_protobuf.cpp,
// tokenizer_sp_model.cpp, make_sentencepiece_tokenizer) and its encoder and decoder. The input is the .model's
// bytes; a model that loads encodes a few fixed texts and the input's own bytes into ids below its vocabulary
// size, which decode again; ids taken from the input's bytes decode or are refused with Error(InvalidArgument).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/tokenizer_sentencepiece.hpp"

namespace {

const char* const kFile = "fuzz-tokenizer.model";

void encode_decode(const memtx::data::Tokenizer& tok, const std::string& text) {
  const std::vector<int64_t> ids = tok.encode(text);
  for (int64_t id : ids)
    if (id < 0 || id >= tok.vocab_size())
      memtx_fuzz::finding("encoded into id " + std::to_string(id) + ", outside the vocabulary of " +
                          std::to_string(tok.vocab_size()));
  try {
    tok.decode(ids);
  } catch (const memtx::Error& e) {
    memtx_fuzz::finding(std::string("decode refuses ids that encode produced: ") + e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string model(reinterpret_cast<const char*>(data), size);
  std::unique_ptr<memtx::data::Tokenizer> tok;
  try {
    tok = memtx::data::make_sentencepiece_tokenizer(model, kFile);
  } catch (const memtx::Error& e) {
    memtx_fuzz::expect_error(e, {memtx::StatusCode::Io, memtx::StatusCode::Config}, kFile);
    return 0;
  }
  for (const char* text : {"Hello world", "  two  spaces\tand\na newline ", "<s>x</s><unk>", "\xEF\xAC\x81 \xC3\x85 \xED\x95\x9C",
                           "\xff\xfe broken \xc3 utf8 \xe2\x82", "12345 67.89", ""})
    encode_decode(*tok, text);
  encode_decode(*tok, model.substr(0, 256));
  std::vector<int64_t> ids;
  for (size_t i = 0; i + 2 <= model.size() && ids.size() < 64; i += 2)
    ids.push_back((static_cast<int64_t>(static_cast<unsigned char>(model[i])) << 8 |
                   static_cast<unsigned char>(model[i + 1])) - 4);
  try {
    tok->decode(ids);
  } catch (const memtx::Error& e) {
    memtx_fuzz::expect_error(e, {memtx::StatusCode::InvalidArgument}, "");
  }
  (void)tok->bos_id(), (void)tok->eos_id(), (void)tok->pad_id(), (void)tok->token_id("<s>");
  return 0;
}
