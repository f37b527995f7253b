/* tests/capi/capi_generate_stream_test.c: the generation options of ABI 2 from C: struct_size checks, the
 * per-token callback (it sees exactly the returned tokens, in order; its pieces concatenate to the returned text;
 * returning non-zero stops), out_stop_reason, repetition_penalty / min_p / max_time checks naming the field, the
 * same for sessions, and memtx_chat_render. */
#include <stdlib.h>
#include <string.h>

#include "capi_check.h"

typedef struct {
  int64_t tokens[512];
  size_t n_tokens;
  char text[8192];
  size_t text_len;
  size_t null_pieces;
  size_t stop_after; /* 0 = never stop */
  int64_t last_flush; /* the token of a call with token -1 (held-back bytes), else 0 */
} recorder;

static int record(void* user_data, int64_t token, const char* piece, size_t len) {
  recorder* r = (recorder*)user_data;
  if (token >= 0 && r->n_tokens < 512) r->tokens[r->n_tokens++] = token;
  if (token < 0) r->last_flush = token;
  if (!piece) ++r->null_pieces;
  if (piece && r->text_len + len <= sizeof r->text) {
    memcpy(r->text + r->text_len, piece, len);
    r->text_len += len;
  }
  return r->stop_after > 0 && token >= 0 && r->n_tokens >= r->stop_after;
}

static void test_streaming_model(memtx_model* model) {
  int64_t prompt[5] = {'H', 'e', 'l', 'l', 'o'};
  int64_t ids[64];
  size_t n = 0, text_len = 0;
  char* text = NULL;
  memtx_stop_reason reason = MEMTX_STOP_CANCELLED;
  memtx_generate_options o = memtx_generate_default_options();
  recorder* r = (recorder*)calloc(1, sizeof(recorder));
  recorder* r2 = (recorder*)calloc(1, sizeof(recorder));

  CHECK(o.struct_size == sizeof(memtx_generate_options));
  CHECK(o.repetition_penalty == 1.0f && o.min_p == 0.0f && o.max_time == 0.0);
  CHECK(o.on_token == NULL && o.on_token_user_data == NULL && o.out_stop_reason == NULL);

  /* sampled bytes (often not UTF-8): the id call and the text call draw the same tokens (vocab 259 = the byte
   * tokenizer's), the callback sees them in order, and its pieces concatenate to the text. */
  o.max_new_tokens = 40;
  o.seed = 11;
  o.stop_at_eos = 0;
  o.on_token = record;
  o.on_token_user_data = r;
  o.out_stop_reason = &reason;
  EXPECT_OK(memtx_generate(model, prompt, 5, &o, ids, 64, &n));
  CHECK(n == 40 && r->n_tokens == 40 && memcmp(ids, r->tokens, 40 * sizeof(int64_t)) == 0);
  CHECK(reason == MEMTX_STOP_MAX_TOKENS && r->null_pieces == 0);
  o.on_token_user_data = r2;
  reason = MEMTX_STOP_CANCELLED;
  EXPECT_OK(memtx_generate_text_n(model, "Hello", 5, &o, &text, &text_len));
  CHECK(r2->n_tokens == 40 && memcmp(ids, r2->tokens, 40 * sizeof(int64_t)) == 0);
  CHECK(text && text_len == r2->text_len && memcmp(text, r2->text, text_len) == 0);
  CHECK(r->text_len == r2->text_len && memcmp(r->text, r2->text, r->text_len) == 0);
  CHECK(reason == MEMTX_STOP_MAX_TOKENS);
  memtx_string_free(text);

  /* returning non-zero after the 7th token stops there; the call succeeds with the 7 tokens */
  memset(r, 0, sizeof *r);
  r->stop_after = 7;
  o.on_token_user_data = r;
  EXPECT_OK(memtx_generate(model, prompt, 5, &o, ids, 64, &n));
  CHECK(n == 7 && r->n_tokens == 7 && memcmp(ids, r2->tokens, 7 * sizeof(int64_t)) == 0);
  CHECK(reason == MEMTX_STOP_CALLBACK);

  /* max_time: a tiny limit stops after the first token, reported as MEMTX_STOP_MAX_TIME */
  o.on_token = NULL;
  o.max_new_tokens = 60;
  o.max_time = 1e-9;
  EXPECT_OK(memtx_generate(model, prompt, 5, &o, ids, 64, &n));
  CHECK(n == 1 && reason == MEMTX_STOP_MAX_TIME);
  o.max_time = 0;

  /* greedy with a repetition penalty: a different continuation than without */
  {
    int64_t plain[24], penalized[24];
    size_t np = 0, nq = 0;
    o.temperature = 0.0f;
    o.max_new_tokens = 24;
    EXPECT_OK(memtx_generate(model, prompt, 5, &o, plain, 24, &np));
    o.repetition_penalty = 1e6f;
    EXPECT_OK(memtx_generate(model, prompt, 5, &o, penalized, 24, &nq));
    CHECK(np == 24 && nq == 24 && memcmp(plain, penalized, sizeof plain) != 0);
    o.repetition_penalty = 1.0f;
    o.temperature = 1.0f;
  }

  /* bad values name the field; a struct_size the library does not know is refused */
  o.repetition_penalty = 0.0f;
  EXPECT_STATUS(memtx_generate(model, prompt, 5, &o, ids, 64, &n), MEMTX_INVALID_ARGUMENT, "repetition_penalty");
  o.repetition_penalty = 1.0f;
  o.min_p = 1.5f;
  EXPECT_STATUS(memtx_generate_text(model, "x", &o, &text), MEMTX_INVALID_ARGUMENT, "min_p");
  o.min_p = 0.0f;
  o.max_time = -1.0;
  EXPECT_STATUS(memtx_generate(model, prompt, 5, &o, ids, 64, &n), MEMTX_INVALID_ARGUMENT, "max_time");
  o.max_time = 0.0;
  o.struct_size = 64;
  EXPECT_STATUS(memtx_generate(model, prompt, 5, &o, ids, 64, &n), MEMTX_INVALID_ARGUMENT, "struct_size");
  o.struct_size = 0;
  EXPECT_STATUS(memtx_generate_text(model, "x", &o, &text), MEMTX_INVALID_ARGUMENT, "memtx_generate_default_options");
  o.struct_size = sizeof(memtx_generate_options);

  /* sessions: the same callback contract */
  {
    memtx_session* s = NULL;
    EXPECT_OK(memtx_session_create(model, &s));
    EXPECT_OK(memtx_session_feed(s, prompt, 5, NULL, 0));
    memset(r, 0, sizeof *r);
    o.max_new_tokens = 20;
    o.on_token = record;
    o.on_token_user_data = r;
    EXPECT_OK(memtx_session_generate_text_n(s, &o, &text, &text_len));
    CHECK(r->n_tokens == 20 && text && text_len == r->text_len && memcmp(text, r->text, text_len) == 0);
    CHECK(memtx_session_position(s) == 25 && reason == MEMTX_STOP_MAX_TOKENS);
    memtx_string_free(text);
    memset(r, 0, sizeof *r);
    r->stop_after = 3;
    EXPECT_OK(memtx_session_generate(s, &o, ids, 64, &n));
    CHECK(n == 3 && r->n_tokens == 3 && memcmp(ids, r->tokens, 3 * sizeof(int64_t)) == 0);
    CHECK(reason == MEMTX_STOP_CALLBACK && memtx_session_position(s) == 28);
    o.struct_size = 8;
    EXPECT_STATUS(memtx_session_generate(s, &o, ids, 64, &n), MEMTX_INVALID_ARGUMENT, "struct_size");
    o.struct_size = sizeof(memtx_generate_options);
    memtx_session_free(s);
  }
  free(r);
  free(r2);
}

static void test_chat_render(memtx_model* model) {
  char* json = NULL;
  EXPECT_OK(memtx_chat_render(model, "[{\"role\": \"user\", \"content\": \"Hi\"}]", 1, &json));
  CHECK(json && strstr(json, "\"text\": \"<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n\""));
  CHECK(json && strstr(json, "\"format\": \"chatml\"") && strstr(json, "\"end_of_turn\": \"<|im_end|>\""));
  CHECK(json && strstr(json, "\"source\": \"default\"") && strstr(json, "\"warning\": \"\""));
  memtx_string_free(json);
  json = (char*)1;
  EXPECT_STATUS(memtx_chat_render(model, "{\"role\": \"user\"}", 0, &json), MEMTX_INVALID_ARGUMENT, "messages_json");
  CHECK(json == NULL);
  EXPECT_STATUS(memtx_chat_render(model, "[{\"role\": \"user\"}]", 0, &json), MEMTX_INVALID_ARGUMENT, "[0]");
  EXPECT_STATUS(memtx_chat_render(NULL, "[]", 0, &json), MEMTX_INVALID_ARGUMENT, "model is NULL");
}

void test_generate_streaming(memtx_context* ctx) {
  memtx_config* cfg = NULL;
  memtx_model* model = NULL;
  EXPECT_OK(memtx_config_parse(ctx,
                               "model:\n  hidden_dim: 32\n  num_heads: 4\n  num_layers: 2\n  intermediate_dim: 64\n"
                               "  vocab_size: 259\n  max_seq_len: 256\n  device: cpu\n  init_std: 0.2\n"
                               "memory:\n  vanilla_mode: true\n",
                               &cfg));
  EXPECT_OK(memtx_model_create(ctx, cfg, &model));
  if (model) {
    test_streaming_model(model);
    test_chat_render(model);
  }
  memtx_model_free(model);
  memtx_config_free(cfg);
}
