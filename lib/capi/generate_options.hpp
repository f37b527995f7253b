// capi/generate_options.hpp: memtx_generate_options as the core's GenerateOptions, shared by the generation
// calls of models (capi/infer.cpp) and of sessions (capi/session.cpp).
#pragma once
#include <string>

#include "capi/handles.hpp"
#include "infer/generate.hpp"

namespace memtx::capi {

// in NULL = memtx_generate_default_options(). Checks the sampling options and stop_tokens (fn names the
// calling function in messages); stop_at_eos adds the model tokenizer's end-of-sequence id (Error naming the
// option when the tokenizer cannot be loaded). max_new_tokens is copied unchecked.
memtx::infer::GenerateOptions generate_options(memtx_model& model, const memtx_generate_options* in,
                                               const std::string& fn);

}  // namespace memtx::capi
