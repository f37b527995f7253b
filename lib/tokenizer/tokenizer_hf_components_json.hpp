// tokenizer/tokenizer_hf_components_json.hpp: builds the normalizer, pre-tokenizer and decoder of a tokenizer.json
// from their JSON objects. A component type memtx does not implement raises Error(Config) naming the type;
// a malformed field raises Error(Io); a regex that does not compile raises Error(Config) naming it.
#pragma once
#include "tokenizer/tokenizer_hf_decoders.hpp"
#include "tokenizer/tokenizer_hf_normalizers.hpp"
#include "tokenizer/tokenizer_hf_pretokenizers.hpp"
#include "tokenizer/tokenizer_json_reader.hpp"

namespace memtx::data {

// depth: how many Sequences hold this component (at most kMaxSequenceDepth, else Error(Io)).
constexpr int kMaxSequenceDepth = 64;
NormalizerPtr read_normalizer(const Reader& r, const json& n, int depth = 0);
PreTokenizerPtr read_pre_tokenizer(const Reader& r, const json& p, int depth = 0);
DecoderPtr read_decoder(const Reader& r, const json& d, int depth = 0);

}  // namespace memtx::data
