// capi/tokenizer.cpp: the model's tokenizer (loaded on first use) and the tokenize/detokenize calls (NUL-terminated
// text, and the _n calls on text with a byte count).
#include "capi/handles.hpp"

namespace memtx::capi {

std::string model_tokenizer_spec(const memtx_model& model) {
  return model.tokenizer_spec.empty() ? model.model->config().get_string("model.tokenizer") : model.tokenizer_spec;
}

const data::Tokenizer& model_tokenizer(memtx_model& model) {
  if (model.tokenizer) return *model.tokenizer;
  const std::string spec = model_tokenizer_spec(model);
  std::shared_ptr<const data::Tokenizer> tokenizer = data::load_tokenizer(spec);
  const int64_t vocab = model.model->spec().vocab_size;
  if (tokenizer->vocab_size() > vocab)
    throw Error(StatusCode::Config, "model.tokenizer '" + spec + "' has " + std::to_string(tokenizer->vocab_size()) +
                                        " token ids but model.vocab_size is " + std::to_string(vocab) +
                                        ": the model cannot read them (raise model.vocab_size to at least " +
                                        std::to_string(tokenizer->vocab_size()) + " or use another tokenizer)");
  model.tokenizer = std::move(tokenizer);
  return *model.tokenizer;
}

}  // namespace memtx::capi

using namespace memtx::capi;

namespace {

// The ids of text into out_tokens (see memtx_tokenize); fn names the calling function in messages.
void tokenize_into(memtx_model& model, const std::string& text, int64_t* out_tokens, size_t capacity,
                   size_t* out_count, const char* fn) {
  const std::vector<int64_t> ids = model_tokenizer(model).encode(text);
  *out_count = ids.size();
  if (!out_tokens) return;
  if (capacity < ids.size())
    throw memtx::Error(memtx::StatusCode::InvalidArgument,
                       std::string(fn) + ": capacity " + std::to_string(capacity) + " is too small, the text needs " +
                           std::to_string(ids.size()) + " tokens");
  if (!ids.empty()) std::memcpy(out_tokens, ids.data(), ids.size() * sizeof(int64_t));
}

std::string decode(memtx_model& model, const int64_t* tokens, size_t count, const char* fn) {
  if (count > 0) require(tokens, fn, "tokens");
  const std::vector<int64_t> ids(tokens, tokens + count);
  return model_tokenizer(model).decode(ids);
}

}  // namespace

extern "C" {

memtx_status* memtx_tokenize(memtx_model* model, const char* text, int64_t* out_tokens, size_t capacity,
                             size_t* out_count) {
  return guarded("memtx_tokenize", [&] {
    require(model, "memtx_tokenize", "model");
    const auto pass = use_model(*model, "memtx_tokenize");
    require(text, "memtx_tokenize", "text");
    require(out_count, "memtx_tokenize", "out_count");
    tokenize_into(*model, text, out_tokens, capacity, out_count, "memtx_tokenize");
  });
}

memtx_status* memtx_tokenize_n(memtx_model* model, const char* text, size_t text_len, int64_t* out_tokens,
                               size_t capacity, size_t* out_count) {
  return guarded("memtx_tokenize_n", [&] {
    const char* fn = "memtx_tokenize_n";
    require(model, fn, "model");
    const auto pass = use_model(*model, fn);
    require(out_count, fn, "out_count");
    tokenize_into(*model, text_arg(text, text_len, fn, "text"), out_tokens, capacity, out_count, fn);
  });
}

memtx_status* memtx_detokenize(memtx_model* model, const int64_t* tokens, size_t count, char** out_text) {
  return guarded("memtx_detokenize", [&] {
    if (out_text) *out_text = nullptr;  // NULL unless the call succeeds
    require(model, "memtx_detokenize", "model");
    const auto pass = use_model(*model, "memtx_detokenize");
    require(out_text, "memtx_detokenize", "out_text");
    *out_text = copy_string(decode(*model, tokens, count, "memtx_detokenize"));
  });
}

memtx_status* memtx_detokenize_n(memtx_model* model, const int64_t* tokens, size_t count, char** out_text,
                                 size_t* out_len) {
  return guarded("memtx_detokenize_n", [&] {
    const char* fn = "memtx_detokenize_n";
    if (out_text) *out_text = nullptr;  // NULL unless the call succeeds
    if (out_len) *out_len = 0;
    require(model, fn, "model");
    const auto pass = use_model(*model, fn);
    require(out_text, fn, "out_text");
    return_text(decode(*model, tokens, count, fn), out_text, out_len);
  });
}

}  // extern "C"
