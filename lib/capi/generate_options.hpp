// capi/generate_options.hpp: memtx_generate_options as the core's GenerateOptions, shared by the generation
// calls of models (capi/infer.cpp) and of sessions (capi/session.cpp): the struct_size check, the option
// checks, and the per-call streaming (on_token with text pieces) and stop-reason report.
#pragma once
#include <optional>
#include <string>

#include "capi/handles.hpp"
#include "infer/generate.hpp"
#include "infer/text_stream.hpp"

namespace memtx::capi {

// The caller's options as a whole current struct: in NULL = memtx_generate_default_options(); Error
// (InvalidArgument, naming fn) when in->struct_size is not the size of a memtx_generate_options the library knows.
memtx_generate_options read_generate_options(const memtx_generate_options* in, const std::string& fn);

// Checks the sampling options, max_time and stop_tokens (fn names the calling function in messages);
// stop_at_eos adds the model tokenizer's end-of-sequence id (Error naming the option when the tokenizer cannot
// be loaded). max_new_tokens is copied unchecked. Streaming is attached separately (GenerateStream).
memtx::infer::GenerateOptions generate_options(memtx_model& model, const memtx_generate_options& o,
                                               const std::string& fn);

// One call's on_token and out_stop_reason. tokenizer NULL: every piece is NULL. attach() sets g.on_token
// when the caller gave one; finish() gives held-back text (token -1) and writes the stop reason.
class GenerateStream {
 public:
  GenerateStream(const memtx_generate_options& o, const memtx::data::Tokenizer* tokenizer);
  void attach(memtx::infer::GenerateOptions& g);
  void finish(const memtx::infer::GenerateResult& result);

 private:
  memtx_generate_options options_;
  std::optional<memtx::infer::TextStream> text_;
};

// The tokenizer for the text pieces of an id call (memtx_generate, memtx_session_generate): NULL without
// o.on_token, or when the model's tokenizer cannot be loaded.
const memtx::data::Tokenizer* stream_tokenizer(memtx_model& model, const memtx_generate_options& o);

}  // namespace memtx::capi
