// tokenizer/tokenizer_hf_decoders.hpp: the decoders of Hugging Face tokenizer.json: ByteLevel, Metaspace,
// ByteFallback, Fuse, Replace, Strip, WordPiece, BPEDecoder and Sequence. A decoder rewrites the list of
// token strings; the decoded text is their concatenation. Unlike the reference, byte-level output is kept
// as raw bytes (no U+FFFD for an incomplete UTF-8 sequence), so a text split across calls still joins up.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/tokenizer_hf_pretokenizers.hpp"
#include "tokenizer/tokenizer_regex.hpp"

namespace memtx::data {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};
using DecoderPtr = std::shared_ptr<const Decoder>;

DecoderPtr make_byte_level_decoder();  // stand-in characters back to bytes, all tokens fused
DecoderPtr make_metaspace_decoder(std::string replacement, PrependScheme scheme);
DecoderPtr make_byte_fallback_decoder();  // runs of <0xXX> tokens back to text (U+FFFD per byte if invalid)
DecoderPtr make_fuse_decoder();
DecoderPtr make_replace_decoder(Pattern pattern, std::string content);
DecoderPtr make_strip_decoder(std::string content, size_t start, size_t stop);  // content: one character
DecoderPtr make_wordpiece_decoder(std::string prefix, bool cleanup);
DecoderPtr make_bpe_decoder(std::string suffix);  // end-of-word suffix -> ' ' (none after the last token)
DecoderPtr make_sequence_decoder(std::vector<DecoderPtr> steps);

// The text of tokens after the decoder (nullptr: joined with ' ', as the reference does without one).
std::string decode_tokens(const Decoder* decoder, std::vector<std::string> tokens);

}  // namespace memtx::data
