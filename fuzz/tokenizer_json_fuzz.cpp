// fuzz/tokenizer_json_fuzz.cpp: fuzzes the Hugging Face tokenizer.json loader (lib/tokenizer/tokenizer_bpe_json.cpp,
// make_bpe_tokenizer) and the encoder/decoder with their pipeline (regexes included). The input is the tokenizer.json text, optionally followed by a
// NUL byte and a text to encode (without one, the input's first 512 bytes are also the text):
//   - the shipped byte-level BPE fixture (fuzz/data/bpe_tokenizer.json) must round-trip the text's bytes exactly;
//   - a tokenizer.json that loads must encode the text into ids below its vocabulary size that decode again;
//   - ids taken from the input's bytes decode, or are refused with Error(InvalidArgument).
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/tokenizer_bpe.hpp"

namespace {

const char* const kFile = "fuzz-tokenizer.json";

const memtx::data::Tokenizer& fixture() {
  static const std::unique_ptr<memtx::data::Tokenizer> tok = [] {
    std::ifstream in(MEMTX_FUZZ_BPE_FIXTURE, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) memtx_fuzz::finding(std::string("cannot read ") + MEMTX_FUZZ_BPE_FIXTURE);
    return memtx::data::make_bpe_tokenizer(memtx::data::parse_tokenizer_json(text.str(), MEMTX_FUZZ_BPE_FIXTURE));
  }();
  return *tok;
}

void check_ids(const std::vector<int64_t>& ids, int64_t vocab_size, const char* who) {
  for (int64_t id : ids)
    if (id < 0 || id >= vocab_size)
      memtx_fuzz::finding(std::string(who) + " encoded into id " + std::to_string(id) + ", outside the vocabulary of " +
                          std::to_string(vocab_size));
}

// Ids from the input's bytes (3 bytes each, so ids past any small vocabulary appear), decoded or refused.
void decode_arbitrary_ids(const memtx::data::Tokenizer& tok, const std::string& bytes) {
  std::vector<int64_t> ids;
  for (size_t i = 0; i + 3 <= bytes.size() && ids.size() < 64; i += 3)
    ids.push_back((static_cast<int64_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                   static_cast<int64_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                   static_cast<unsigned char>(bytes[i + 2])) - 8);  // a few negative ones too
  try {
    tok.decode(ids);
  } catch (const memtx::Error& e) {
    memtx_fuzz::expect_error(e, {memtx::StatusCode::InvalidArgument}, "");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string json = input.substr(0, nul);
  const std::string text = nul == std::string::npos ? input.substr(0, 512) : input.substr(nul + 1);

  const memtx::data::Tokenizer& fix = fixture();
  const std::vector<int64_t> fixture_ids = fix.encode(text);
  check_ids(fixture_ids, fix.vocab_size(), "the fixture tokenizer");
  if (fix.decode(fixture_ids) != text) memtx_fuzz::finding("the fixture tokenizer does not round-trip the text");

  std::unique_ptr<memtx::data::Tokenizer> tok;
  try {
    tok = memtx::data::make_bpe_tokenizer(memtx::data::parse_tokenizer_json(json, kFile));
  } catch (const memtx::Error& e) {
    memtx_fuzz::expect_error(e, {memtx::StatusCode::Io, memtx::StatusCode::Config}, kFile);
    return 0;
  }
  std::vector<int64_t> ids;
  try {
    ids = tok->encode(text);
  } catch (const memtx::Error& e) {
    // Only a Split / Replace regex that backtracks past its limits may refuse a text.
    memtx_fuzz::expect_error(e, {memtx::StatusCode::InvalidArgument}, "regex");
    return 0;
  }
  check_ids(ids, tok->vocab_size(), "the fuzzed tokenizer");
  try {
    tok->decode(ids);
  } catch (const memtx::Error& e) {
    memtx_fuzz::finding(std::string("decode refuses ids that encode produced: ") + e.what());
  }
  for (const char* special : {"<|endoftext|>", "<s>", ""}) (void)tok->token_id(special);
  (void)tok->bos_id(), (void)tok->eos_id(), (void)tok->pad_id();
  decode_arbitrary_ids(*tok, text);
  return 0;
}
