/* tests/capi/capi_test.c: the C API exercised from C (compiled as C99): every call, and every error path
 * with its status code and a fragment of its message. Prints "N passed, N failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capi_check.h"

int passed = 0, failed = 0;
static int have_fixtures = 0; /* ../shared/fixtures (Hugging Face folders, tokenizer.json); tests skip without */

void expect_status_at(memtx_status* st, memtx_status_code code, const char* fragment, const char* file, int line) {
  const char* message = memtx_status_message(st);
  if (memtx_status_get_code(st) != code || (fragment && !strstr(message, fragment))) {
    ++failed;
    fprintf(stderr, "%s:%d: expected %s containing '%s', got %s: %s\n", file, line, memtx_status_code_name(code),
            fragment ? fragment : "", memtx_status_code_name(memtx_status_get_code(st)), message);
  } else {
    ++passed;
  }
  memtx_status_free(st);
}

static const char* write_file(const char* name, const char* text) {
  static char path[512];
  snprintf(path, sizeof path, "/tmp/memtx_capi_%d_%s", (int)getpid(), name);
  FILE* f = fopen(path, "wb");
  fputs(text, f);
  fclose(f);
  return path;
}

/* Model folders: removes what memtx_model_save wrote. */
static void remove_model_dir(const char* dir) {
  char path[512];
  snprintf(path, sizeof path, "%s/config.yaml", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/manifest.json", dir);
  unlink(path);
  rmdir(dir);
}

/* Tokenizer calls, generation, evaluation and model folders. */
static void test_inference(memtx_context* ctx) {
  memtx_config* cfg = NULL;
  memtx_model* model = NULL;
  memtx_model* loaded = NULL;
  char* text = NULL;
  char* again_text = NULL;
  char dir[256];
  int64_t ids[64];
  size_t count = 0;
  memtx_generate_options opt = memtx_generate_default_options();

  CHECK(opt.max_new_tokens == 64 && opt.temperature == 1.0f && opt.top_k == 0 && opt.top_p == 1.0f);
  CHECK(opt.stop_tokens == NULL && opt.n_stop_tokens == 0 && opt.stop_at_eos == 1);
  EXPECT_OK(memtx_config_parse(ctx,
                               "model:\n  hidden_dim: 32\n  num_heads: 4\n  num_layers: 2\n  intermediate_dim: 64\n"
                               "  vocab_size: 260\n  max_seq_len: 256\n  device: cpu\nmemory:\n  vanilla_mode: true\n"
                               "training:\n  training_mode: pretraining\n"
                               "  dataset_name: \"synthetic:passkey?length=128&examples=40\"\n"
                               "  eval_split: test\n  eval_fraction: 0.1\n  max_length: 128\n  batch_size: 2\n",
                               &cfg));
  EXPECT_OK(memtx_model_create(ctx, cfg, &model));

  /* tokenizer: model.tokenizer "byte" (bytes 0..255, <|endoftext|> 256, <|im_start|> 257, <|im_end|> 258) */
  EXPECT_OK(memtx_tokenize(model, "hi!", NULL, 0, &count));
  CHECK(count == 3);
  EXPECT_OK(memtx_tokenize(model, "hi!<|endoftext|>", ids, 64, &count));
  CHECK(count == 4 && ids[0] == 'h' && ids[1] == 'i' && ids[2] == '!' && ids[3] == 256);
  ids[0] = -7;
  EXPECT_STATUS(memtx_tokenize(model, "hello", ids, 4, &count), MEMTX_INVALID_ARGUMENT, "needs 5 tokens");
  CHECK(ids[0] == -7 && count == 5); /* nothing written; the count needed is given */
  EXPECT_STATUS(memtx_tokenize(NULL, "x", ids, 4, &count), MEMTX_INVALID_ARGUMENT, "model is NULL");
  EXPECT_STATUS(memtx_tokenize(model, NULL, ids, 4, &count), MEMTX_INVALID_ARGUMENT, "text is NULL");
  EXPECT_STATUS(memtx_tokenize(model, "x", ids, 4, NULL), MEMTX_INVALID_ARGUMENT, "out_count is NULL");
  {
    int64_t hello[5] = {104, 101, 108, 108, 111};
    int64_t bad[2] = {104, 259};
    EXPECT_OK(memtx_detokenize(model, hello, 5, &text));
    CHECK(text && strcmp(text, "hello") == 0);
    memtx_string_free(text);
    EXPECT_OK(memtx_detokenize(model, NULL, 0, &text));
    CHECK(text && text[0] == '\0');
    memtx_string_free(text);
    text = NULL;
    EXPECT_STATUS(memtx_detokenize(model, bad, 2, &text), MEMTX_INVALID_ARGUMENT, "259");
    CHECK(text == NULL);
    EXPECT_STATUS(memtx_detokenize(model, NULL, 2, &text), MEMTX_INVALID_ARGUMENT, "tokens is NULL");
    EXPECT_STATUS(memtx_detokenize(model, hello, 5, NULL), MEMTX_INVALID_ARGUMENT, "out_text is NULL");
  }

  /* generation on token ids */
  {
    int64_t prompt[4] = {72, 101, 108, 108};
    int64_t bad_prompt[2] = {72, 300};
    int64_t a[16], b[16], stops[2];
    size_t na = 0, nb = 0;
    opt.temperature = 0.0f; /* greedy */
    opt.max_new_tokens = 8;
    opt.stop_at_eos = 0;
    EXPECT_OK(memtx_generate(model, prompt, 4, &opt, a, 16, &na));
    CHECK(na == 8);
    EXPECT_OK(memtx_generate(model, prompt, 4, &opt, b, 16, &nb));
    CHECK(nb == 8 && memcmp(a, b, 8 * sizeof(int64_t)) == 0);
    EXPECT_OK(memtx_generate(model, prompt, 4, &opt, b, 3, &nb)); /* capacity 3 cuts generation short */
    CHECK(nb == 3 && memcmp(a, b, 3 * sizeof(int64_t)) == 0);
    stops[0] = a[0]; /* the first token is a stop token: nothing is returned */
    opt.stop_tokens = stops;
    opt.n_stop_tokens = 1;
    EXPECT_OK(memtx_generate(model, prompt, 4, &opt, b, 16, &nb));
    CHECK(nb == 0);
    opt.stop_tokens = NULL;
    opt.n_stop_tokens = 0;
    /* sampling: the same seed gives the same tokens, another seed other tokens (a near-uniform model) */
    opt.temperature = 1.0f;
    opt.max_new_tokens = 16;
    opt.seed = 5;
    EXPECT_OK(memtx_generate(model, prompt, 4, &opt, a, 16, &na));
    EXPECT_OK(memtx_generate(model, prompt, 4, &opt, b, 16, &nb));
    CHECK(na == 16 && nb == 16 && memcmp(a, b, 16 * sizeof(int64_t)) == 0);
    opt.seed = 6;
    EXPECT_OK(memtx_generate(model, prompt, 4, &opt, b, 16, &nb));
    CHECK(nb == 16 && memcmp(a, b, 16 * sizeof(int64_t)) != 0);
    EXPECT_OK(memtx_generate(model, prompt, 4, NULL, a, 16, &na)); /* defaults: 64 tokens, cut to capacity */
    CHECK(na == 16);
    EXPECT_STATUS(memtx_generate(NULL, prompt, 4, &opt, a, 16, &na), MEMTX_INVALID_ARGUMENT, "model is NULL");
    EXPECT_STATUS(memtx_generate(model, NULL, 4, &opt, a, 16, &na), MEMTX_INVALID_ARGUMENT, "prompt is NULL");
    EXPECT_STATUS(memtx_generate(model, prompt, 0, &opt, a, 16, &na), MEMTX_INVALID_ARGUMENT, "prompt_len");
    EXPECT_STATUS(memtx_generate(model, prompt, 4, &opt, NULL, 16, &na), MEMTX_INVALID_ARGUMENT, "out_tokens is NULL");
    EXPECT_STATUS(memtx_generate(model, prompt, 4, &opt, a, 16, NULL), MEMTX_INVALID_ARGUMENT, "out_count is NULL");
    EXPECT_STATUS(memtx_generate(model, bad_prompt, 2, &opt, a, 16, &na), MEMTX_INVALID_ARGUMENT, "outside the vocabulary");
    opt.temperature = -1.0f;
    EXPECT_STATUS(memtx_generate(model, prompt, 4, &opt, a, 16, &na), MEMTX_INVALID_ARGUMENT, "temperature");
    opt.temperature = 1.0f;
    opt.top_p = 0.0f;
    EXPECT_STATUS(memtx_generate(model, prompt, 4, &opt, a, 16, &na), MEMTX_INVALID_ARGUMENT, "top_p");
    opt.top_p = 1.0f;
    opt.top_k = -3;
    EXPECT_STATUS(memtx_generate(model, prompt, 4, &opt, a, 16, &na), MEMTX_INVALID_ARGUMENT, "top_k");
    opt.top_k = 0;
    opt.n_stop_tokens = 2;
    EXPECT_STATUS(memtx_generate(model, prompt, 4, &opt, a, 16, &na), MEMTX_INVALID_ARGUMENT, "stop_tokens is NULL");
    opt.n_stop_tokens = 0;
    opt.max_new_tokens = -1;
    EXPECT_STATUS(memtx_generate(model, prompt, 4, &opt, a, 16, &na), MEMTX_INVALID_ARGUMENT, "max_new_tokens");
    opt.max_new_tokens = 8;
  }

  /* generation on text: deterministic greedy continuation, decodable */
  opt.temperature = 0.0f;
  opt.stop_at_eos = 1;
  EXPECT_OK(memtx_generate_text(model, "Hello", &opt, &text));
  EXPECT_OK(memtx_generate_text(model, "Hello", &opt, &again_text));
  CHECK(text && again_text && strcmp(text, again_text) == 0);
  memtx_string_free(text);
  memtx_string_free(again_text);
  EXPECT_OK(memtx_generate_text(model, "", NULL, &text)); /* an empty prompt starts from <|endoftext|> */
  CHECK(text != NULL);
  memtx_string_free(text);
  EXPECT_STATUS(memtx_generate_text(model, NULL, &opt, &text), MEMTX_INVALID_ARGUMENT, "prompt is NULL");
  EXPECT_STATUS(memtx_generate_text(model, "x", &opt, NULL), MEMTX_INVALID_ARGUMENT, "out_text is NULL");

  /* evaluation: 4 held-out passkey examples of 128 tokens, in batches of 2 */
  EXPECT_OK(memtx_evaluate(model, NULL, &text));
  CHECK(text && strstr(text, "\"loss\"") && strstr(text, "\"perplexity\"") && strstr(text, "\"split\": \"test"));
  CHECK(text && strstr(text, "\"batches\": 2") && strstr(text, "\"sequences\": 4") && strstr(text, "\"tokens\": 512"));
  memtx_string_free(text);
  EXPECT_OK(memtx_config_set(cfg, "training.eval_max_batches", "1"));
  EXPECT_OK(memtx_evaluate(model, cfg, &text));
  CHECK(text && strstr(text, "\"batches\": 1") && strstr(text, "\"sequences\": 2"));
  memtx_string_free(text);
  EXPECT_OK(memtx_config_set(cfg, "training.eval_split", "null"));
  EXPECT_STATUS(memtx_evaluate(model, cfg, &text), MEMTX_NOT_FOUND, "training.eval_split");
  EXPECT_STATUS(memtx_evaluate(model, NULL, NULL), MEMTX_INVALID_ARGUMENT, "out_json is NULL");
  EXPECT_STATUS(memtx_evaluate(NULL, NULL, &text), MEMTX_INVALID_ARGUMENT, "model is NULL");

  /* model folders: save + load gives identical logits and the same greedy tokens */
  snprintf(dir, sizeof dir, "/tmp/memtx_capi_%d_model", (int)getpid());
  EXPECT_OK(memtx_model_save(model, dir));
  EXPECT_OK(memtx_model_load(ctx, dir, &loaded));
  {
    int64_t tokens[6] = {1, 2, 3, 4, 5, 6};
    float* logits = malloc(sizeof(float) * 6 * 260);
    float* again = malloc(sizeof(float) * 6 * 260);
    int64_t a[8], b[8];
    size_t na = 0, nb = 0;
    EXPECT_OK(memtx_forward(model, tokens, 1, 6, logits, 6 * 260));
    EXPECT_OK(memtx_forward(loaded, tokens, 1, 6, again, 6 * 260));
    CHECK(memcmp(logits, again, sizeof(float) * 6 * 260) == 0);
    EXPECT_OK(memtx_generate(model, tokens, 6, &opt, a, 8, &na));
    EXPECT_OK(memtx_generate(loaded, tokens, 6, &opt, b, 8, &nb));
    CHECK(na == nb && memcmp(a, b, na * sizeof(int64_t)) == 0);
    free(logits);
    free(again);
  }
  memtx_model_free(loaded);
  loaded = NULL;
  EXPECT_STATUS(memtx_model_load(ctx, "/nonexistent-model", &loaded), MEMTX_NOT_FOUND, "/nonexistent-model");
  CHECK(loaded == NULL);
  if (have_fixtures)
    EXPECT_STATUS(memtx_model_load(ctx, MEMTX_FIXTURES_DIR "/hf/llama-tiny", &loaded), MEMTX_NOT_FOUND,
                  "memtx_model_load_hf");
  EXPECT_STATUS(memtx_model_load(NULL, dir, &loaded), MEMTX_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT_STATUS(memtx_model_load(ctx, NULL, &loaded), MEMTX_INVALID_ARGUMENT, "dir is NULL");
  EXPECT_STATUS(memtx_model_load(ctx, dir, NULL), MEMTX_INVALID_ARGUMENT, "out is NULL");
  EXPECT_STATUS(memtx_model_save(NULL, dir), MEMTX_INVALID_ARGUMENT, "model is NULL");
  EXPECT_STATUS(memtx_model_save(model, NULL), MEMTX_INVALID_ARGUMENT, "dir is NULL");
  {
    char path[512];
    FILE* f;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    f = fopen(path, "wb"); /* a corrupt weights file */
    fputs("garbage that is no safetensors file", f);
    fclose(f);
    EXPECT_STATUS(memtx_model_load(ctx, dir, &loaded), MEMTX_IO, "model.safetensors");
    CHECK(loaded == NULL);
    unlink(path); /* a missing one */
    EXPECT_STATUS(memtx_model_load(ctx, dir, &loaded), MEMTX_NOT_FOUND, "model.safetensors");
  }
  remove_model_dir(dir);

  /* a Hugging Face model saved as a memtx folder loads back with the same logits */
  if (have_fixtures) {
    memtx_model* back = NULL;
    int64_t tokens[4] = {11, 22, 33, 44};
    float* logits = malloc(sizeof(float) * 4 * 512);
    float* again = malloc(sizeof(float) * 4 * 512);
    EXPECT_OK(memtx_model_load_hf(ctx, MEMTX_FIXTURES_DIR "/hf/llama-tiny", &loaded));
    EXPECT_OK(memtx_model_save(loaded, dir));
    EXPECT_OK(memtx_model_load(ctx, dir, &back));
    EXPECT_OK(memtx_forward(loaded, tokens, 1, 4, logits, 4 * 512));
    EXPECT_OK(memtx_forward(back, tokens, 1, 4, again, 4 * 512));
    CHECK(memcmp(logits, again, sizeof(float) * 4 * 512) == 0);
    memtx_model_free(back);
    free(logits);
    free(again);
    memtx_model_free(loaded);
    loaded = NULL;
    remove_model_dir(dir);
  }
  memtx_model_free(model);
  model = NULL;

  /* a tokenizer with more ids than the model's vocabulary */
  EXPECT_OK(memtx_config_set(cfg, "model.vocab_size", "50"));
  EXPECT_OK(memtx_model_create(ctx, cfg, &model));
  EXPECT_STATUS(memtx_tokenize(model, "hi", NULL, 0, &count), MEMTX_CONFIG, "model.tokenizer 'byte' has 259");
  EXPECT_STATUS(memtx_detokenize(model, ids, 1, &text), MEMTX_CONFIG, "model.vocab_size is 50");
  EXPECT_STATUS(memtx_generate_text(model, "hi", NULL, &text), MEMTX_CONFIG, "model.tokenizer");
  {
    int64_t prompt[2] = {1, 2};
    int64_t out[4];
    size_t n = 0;
    opt.stop_at_eos = 1; /* needs the tokenizer */
    EXPECT_STATUS(memtx_generate(model, prompt, 2, &opt, out, 4, &n), MEMTX_CONFIG, "stop_at_eos");
    opt.stop_at_eos = 0; /* token ids alone need none */
    EXPECT_OK(memtx_generate(model, prompt, 2, &opt, out, 4, &n));
    CHECK(n == 4 && out[0] >= 0 && out[0] < 50);
  }
  memtx_model_free(model);
  memtx_config_free(cfg);
}

/* Copies a file (for building a Hugging Face folder with a tokenizer); returns 0 on success. */
static int copy_file(const char* from, const char* to) {
  char buffer[65536];
  size_t n;
  FILE* in = fopen(from, "rb");
  FILE* out = in ? fopen(to, "wb") : NULL;
  if (!in || !out) {
    if (in) fclose(in);
    return 1;
  }
  while ((n = fread(buffer, 1, sizeof buffer, in)) > 0) fwrite(buffer, 1, n, out);
  fclose(in);
  fclose(out);
  return 0;
}

/* Tokenizers other than the built-in byte one: model.tokenizer naming a tokenizer.json, kept through a
 * model folder, and a Hugging Face folder's own tokenizer.json. */
static void test_tokenizer_files(memtx_context* ctx) {
  const char* bpe = MEMTX_FIXTURES_DIR "/tokenizer-bpe/tokenizer.json";
  const int64_t hello_ids[8] = {42, 71, 358, 81, 280, 265, 587, 3}; /* "Hello world!" by the tokenizers library */
  memtx_config* cfg = NULL;
  memtx_model* model = NULL;
  memtx_model* loaded = NULL;
  char* text = NULL;
  char dir[256], hf[256], path[512];
  int64_t ids[16];
  size_t count = 0;
  snprintf(dir, sizeof dir, "/tmp/memtx_capi_%d_bpe_model", (int)getpid());
  snprintf(hf, sizeof hf, "/tmp/memtx_capi_%d_hf_tok", (int)getpid());

  EXPECT_OK(memtx_config_parse(ctx,
                               "model:\n  hidden_dim: 32\n  num_heads: 4\n  num_layers: 1\n  intermediate_dim: 64\n"
                               "  vocab_size: 640\n  device: cpu\nmemory:\n  vanilla_mode: true\n",
                               &cfg));
  EXPECT_OK(memtx_config_set(cfg, "model.tokenizer", bpe));
  EXPECT_OK(memtx_model_create(ctx, cfg, &model));
  EXPECT_OK(memtx_tokenize(model, "Hello world!", ids, 16, &count));
  CHECK(count == 8 && memcmp(ids, hello_ids, sizeof hello_ids) == 0);
  EXPECT_OK(memtx_detokenize(model, hello_ids, 8, &text));
  CHECK(text && strcmp(text, "Hello world!") == 0);
  memtx_string_free(text);
  EXPECT_OK(memtx_model_save(model, dir));
  EXPECT_OK(memtx_model_load(ctx, dir, &loaded));
  count = 0;
  EXPECT_OK(memtx_tokenize(loaded, "Hello world!", ids, 16, &count));
  CHECK(count == 8 && memcmp(ids, hello_ids, sizeof hello_ids) == 0);
  memtx_model_free(loaded);
  loaded = NULL;
  remove_model_dir(dir);
  memtx_model_free(model);
  model = NULL;
  memtx_config_free(cfg);

  /* A Hugging Face folder with a tokenizer.json uses it: 603 ids do not fit llama-tiny's 512. */
  mkdir(hf, 0700);
  snprintf(path, sizeof path, "%s/config.json", hf);
  CHECK(copy_file(MEMTX_FIXTURES_DIR "/hf/llama-tiny/config.json", path) == 0);
  snprintf(path, sizeof path, "%s/model.safetensors", hf);
  CHECK(copy_file(MEMTX_FIXTURES_DIR "/hf/llama-tiny/model.safetensors", path) == 0);
  snprintf(path, sizeof path, "%s/tokenizer.json", hf);
  CHECK(copy_file(bpe, path) == 0);
  EXPECT_OK(memtx_model_load_hf(ctx, hf, &model));
  EXPECT_STATUS(memtx_tokenize(model, "Hello", NULL, 0, &count), MEMTX_CONFIG, "model.vocab_size is 512");
  EXPECT_STATUS(memtx_tokenize(model, "Hello", NULL, 0, &count), MEMTX_CONFIG, hf);
  memtx_model_free(model);
  unlink(path);
  snprintf(path, sizeof path, "%s/config.json", hf);
  unlink(path);
  snprintf(path, sizeof path, "%s/model.safetensors", hf);
  unlink(path);
  rmdir(hf);
}

/* Passkey retrieval: a grid of cells as JSON (a fresh model knows no key), option errors by name. */
static void test_passkey(memtx_context* ctx) {
  memtx_config* cfg = NULL;
  memtx_model* model = NULL;
  char* text = NULL;
  const char* p = NULL;
  int cells = 0;
  EXPECT_OK(memtx_config_parse(ctx,
                               "model:\n  hidden_dim: 32\n  num_heads: 4\n  num_layers: 2\n  intermediate_dim: 64\n"
                               "  vocab_size: 260\n  max_seq_len: 256\n  device: cpu\nmemory:\n  vanilla_mode: true\n"
                               "attention:\n  attention_list: [causal, infini]\ninfini_attention:\n  segment_length: 32\n",
                               &cfg));
  EXPECT_OK(memtx_model_create(ctx, cfg, &model));
  EXPECT_OK(memtx_passkey(model, "{\"lengths\": [128, 200], \"depths\": [0, 1], \"trials\": 2, \"seed\": 3}", &text));
  CHECK(text && strstr(text, "\"segment_length\": 32") && strstr(text, "\"chunk_tokens\": 32"));
  CHECK(text && strstr(text, "\"accuracy\": 0.0") && strstr(text, "\"passkey\": \""));
  /* the depth-0 cells put the needle at token 0, in the first segment */
  CHECK(text && strstr(text, "\"first_needle_begin\": 0") && strstr(text, "\"first_needle_segment\": 0"));
  for (p = text; p && (p = strstr(p, "\"mean_log_likelihood\"")) != NULL; ++p) ++cells;
  CHECK(cells == 4);
  memtx_string_free(text);
  text = NULL;
  EXPECT_STATUS(memtx_passkey(model, "{\"depths\": [1.5]}", &text), MEMTX_INVALID_ARGUMENT, "depth 1.5");
  CHECK(text == NULL);
  EXPECT_STATUS(memtx_passkey(model, "{\"lenghts\": [128]}", &text), MEMTX_INVALID_ARGUMENT, "unknown key \"lenghts\"");
  EXPECT_STATUS(memtx_passkey(model, "{\"lengths\": [20]}", &text), MEMTX_INVALID_ARGUMENT, "length 20");
  EXPECT_STATUS(memtx_passkey(model, "{\"trials\": 0}", &text), MEMTX_INVALID_ARGUMENT, "\"trials\" must be >= 1");
  EXPECT_STATUS(memtx_passkey(model, "{\"digits\": \"five\"}", &text), MEMTX_INVALID_ARGUMENT, "\"digits\" must be an integer");
  EXPECT_STATUS(memtx_passkey(model, "[1, 2", &text), MEMTX_INVALID_ARGUMENT, "not valid JSON");
  EXPECT_STATUS(memtx_passkey(NULL, NULL, &text), MEMTX_INVALID_ARGUMENT, "model is NULL");
  EXPECT_STATUS(memtx_passkey(model, NULL, NULL), MEMTX_INVALID_ARGUMENT, "out_json is NULL");
  /* keys of 5 digits by default; of the training data's digits for a model trained on synthetic:passkey */
  EXPECT_OK(memtx_passkey(model, "{\"lengths\": [128], \"depths\": [0], \"trials\": 1}", &text));
  CHECK(text && strstr(text, "\"digits\": 5"));
  memtx_string_free(text);
  memtx_model_free(model);
  model = NULL;
  EXPECT_OK(memtx_config_set(cfg, "training.dataset_name", "synthetic:passkey?digits=3"));
  EXPECT_OK(memtx_model_create(ctx, cfg, &model));
  EXPECT_OK(memtx_passkey(model, "{\"lengths\": [128], \"depths\": [0], \"trials\": 1}", &text));
  CHECK(text && strstr(text, "\"digits\": 3"));
  memtx_string_free(text);
  EXPECT_OK(memtx_passkey(model, "{\"lengths\": [128], \"depths\": [0], \"trials\": 1, \"digits\": 4}", &text));
  CHECK(text && strstr(text, "\"digits\": 4"));
  memtx_string_free(text);
  memtx_model_free(model);
  memtx_config_free(cfg);
}

/* Sessions: a stream fed in pieces gives the whole forward's logits and loss, bounded state with segments,
 * generation that continues the stream and equals memtx_generate on the same prefix, reset, errors. */
static double max_abs_diff_f(const float* a, const float* b, size_t n) {
  double worst = 0.0;
  size_t i;
  for (i = 0; i < n; ++i) {
    double d = (double)a[i] - (double)b[i];
    if (d < 0) d = -d;
    if (d > worst) worst = d;
  }
  return worst;
}

static void test_sessions(memtx_context* ctx) {
  enum { V = 260, T = 37 };
  memtx_config* cfg = NULL;
  memtx_model* model = NULL;
  memtx_session* session = NULL;
  memtx_session* fresh = NULL;
  int64_t tokens[T];
  float* whole = malloc(sizeof(float) * T * V);
  float* last = malloc(sizeof(float) * V);
  float* again = malloc(sizeof(float) * V);
  const size_t pieces[5] = {3, 5, 7, 1, 13};
  size_t start = 0, i = 0, predicted = 0;
  double worst = 0.0, loss = 0.0, expected = 0.0;
  int64_t bytes8 = 0;
  memtx_generate_options opt = memtx_generate_default_options();

  for (i = 0; i < T; ++i) tokens[i] = (int64_t)((i * 37 + 11) % 256);
  EXPECT_OK(memtx_config_parse(ctx,
                               "model:\n  hidden_dim: 32\n  num_heads: 4\n  num_layers: 2\n  intermediate_dim: 64\n"
                               "  vocab_size: 260\n  max_seq_len: 256\n  device: cpu\n  init_std: 0.2\n"
                               "memory:\n  vanilla_mode: true\nattention:\n  attention_list: [causal, infini]\n"
                               "infini_attention:\n  segment_length: 8\n  balance_init_type: normal\n",
                               &cfg));
  EXPECT_OK(memtx_model_create(ctx, cfg, &model));
  EXPECT_OK(memtx_forward(model, tokens, 1, T, whole, (size_t)T * V));

  EXPECT_STATUS(memtx_session_create(NULL, &session), MEMTX_INVALID_ARGUMENT, "model is NULL");
  EXPECT_STATUS(memtx_session_create(model, NULL), MEMTX_INVALID_ARGUMENT, "out is NULL");
  memtx_session_free(NULL);
  CHECK(memtx_session_position(NULL) == 0 && memtx_session_state_bytes(NULL) == 0);
  EXPECT_OK(memtx_session_create(model, &session));
  CHECK(memtx_session_position(session) == 0);
  CHECK(memtx_session_state_bytes(session) > 0); /* the infini layer's empty memory */
  EXPECT_STATUS(memtx_session_feed(session, NULL, 0, last, V), MEMTX_INVALID_ARGUMENT, "the stream is empty");
  EXPECT_OK(memtx_session_feed(session, NULL, 0, NULL, 0)); /* nothing to feed */
  {
    size_t count = 99;
    EXPECT_STATUS(memtx_session_generate(session, &opt, tokens, 4, &count), MEMTX_INVALID_ARGUMENT, "the stream is empty");
    CHECK(count == 0);
  }

  /* pieces of sizes that do not divide the segment length: the last logits of each piece are the whole
   * forward's at that position */
  for (i = 0; start < T; ++i) {
    size_t n = pieces[i % 5];
    double d;
    if (start + n > T) n = T - start;
    EXPECT_OK(memtx_session_feed(session, tokens + start, n, last, V));
    start += n;
    d = max_abs_diff_f(last, whole + (start - 1) * V, V);
    if (d > worst) worst = d;
  }
  CHECK(worst < 1e-4);
  CHECK(memtx_session_position(session) == T);
  /* errors leave the stream unchanged */
  {
    int64_t bad[2] = {5, 300};
    EXPECT_STATUS(memtx_session_feed(session, bad, 2, NULL, 0), MEMTX_INVALID_ARGUMENT, "outside the vocabulary");
    EXPECT_STATUS(memtx_session_feed(session, tokens, 2, last, V - 1), MEMTX_INVALID_ARGUMENT, "capacity");
    EXPECT_STATUS(memtx_session_feed(session, NULL, 2, NULL, 0), MEMTX_INVALID_ARGUMENT, "tokens is NULL");
    EXPECT_STATUS(memtx_session_feed(NULL, tokens, 2, NULL, 0), MEMTX_INVALID_ARGUMENT, "session is NULL");
    CHECK(memtx_session_position(session) == T);
    EXPECT_OK(memtx_session_feed(session, NULL, 0, again, V)); /* no tokens: the last logits again */
    CHECK(memcmp(last, again, sizeof(float) * V) == 0);
  }

  /* the next-token loss: every token but the first is predicted, and pieces give the loss of one piece */
  EXPECT_OK(memtx_session_reset(session));
  CHECK(memtx_session_position(session) == 0);
  EXPECT_OK(memtx_session_feed_loss(session, tokens, T, &expected, &predicted));
  CHECK(predicted == T - 1 && expected > 0.0);
  EXPECT_OK(memtx_session_reset(session));
  predicted = 0;
  for (start = 0, i = 0; start < T; ++i) {
    size_t n = pieces[(i + 2) % 5];
    if (start + n > T) n = T - start;
    EXPECT_OK(memtx_session_feed_loss(session, tokens + start, n, &loss, &predicted));
    start += n;
  }
  CHECK(predicted == T - 1);
  CHECK(loss - expected < 1e-4 && expected - loss < 1e-4);
  EXPECT_STATUS(memtx_session_feed_loss(session, tokens, 1, NULL, &predicted), MEMTX_INVALID_ARGUMENT, "out_loss_sum is NULL");

  /* bounded state: after every 8 tokens (the segment length) the same bytes */
  EXPECT_OK(memtx_session_reset(session));
  for (i = 0; i < 12; ++i) {
    EXPECT_OK(memtx_session_feed(session, tokens + (i % 4) * 8, 8, NULL, 0));
    if (i == 0) bytes8 = memtx_session_state_bytes(session);
    else CHECK(memtx_session_state_bytes(session) == bytes8);
  }
  CHECK(memtx_session_position(session) == 96);

  /* reset: the same logits as a fresh session */
  EXPECT_OK(memtx_session_reset(session));
  EXPECT_OK(memtx_session_create(model, &fresh));
  EXPECT_OK(memtx_session_feed(session, tokens, 11, last, V));
  EXPECT_OK(memtx_session_feed(fresh, tokens, 11, again, V));
  CHECK(memcmp(last, again, sizeof(float) * V) == 0);
  memtx_session_free(fresh);
  fresh = NULL;

  /* generation continues the stream and equals memtx_generate on the same prefix (greedy and sampled) */
  {
    int64_t a[10], b[10];
    size_t na = 0, nb = 0;
    int sampled;
    opt.max_new_tokens = 10;
    opt.stop_at_eos = 0;
    for (sampled = 0; sampled < 2; ++sampled) {
      opt.temperature = sampled ? 1.0f : 0.0f;
      opt.seed = 9;
      EXPECT_OK(memtx_generate(model, tokens, 13, &opt, a, 10, &na));
      EXPECT_OK(memtx_session_reset(session));
      EXPECT_OK(memtx_session_feed(session, tokens, 6, NULL, 0));
      EXPECT_OK(memtx_session_feed(session, tokens + 6, 7, NULL, 0));
      EXPECT_OK(memtx_session_generate(session, &opt, b, 10, &nb));
      CHECK(na == 10 && nb == 10 && memcmp(a, b, sizeof a) == 0);
      CHECK(memtx_session_position(session) == 23);
    }
    /* the new tokens are part of the stream: feeding one more token gives the whole forward's logits */
    {
      int64_t all[24];
      float* all_logits = malloc(sizeof(float) * 24 * V);
      memcpy(all, tokens, 13 * sizeof(int64_t));
      memcpy(all + 13, b, 10 * sizeof(int64_t));
      all[23] = 42;
      EXPECT_OK(memtx_forward(model, all, 1, 24, all_logits, (size_t)24 * V));
      EXPECT_OK(memtx_session_feed(session, all + 23, 1, last, V));
      CHECK(max_abs_diff_f(last, all_logits + 23 * V, V) < 1e-4);
      free(all_logits);
    }
    EXPECT_STATUS(memtx_session_generate(session, &opt, NULL, 4, &nb), MEMTX_INVALID_ARGUMENT, "out_tokens is NULL");
    opt.temperature = -1.0f;
    EXPECT_STATUS(memtx_session_generate(session, &opt, b, 10, &nb), MEMTX_INVALID_ARGUMENT, "temperature");
    opt.temperature = 0.0f;
    CHECK(memtx_session_position(session) == 24);
  }

  /* text: feed_text + generate_text equal memtx_generate_text on the same prompt */
  {
    char* text = NULL;
    char* reference = NULL;
    opt.max_new_tokens = 12;
    opt.stop_at_eos = 1;
    EXPECT_OK(memtx_generate_text(model, "Hello", &opt, &reference));
    EXPECT_OK(memtx_session_reset(session));
    EXPECT_OK(memtx_session_feed_text(session, "Hel", NULL, 0));
    EXPECT_OK(memtx_session_feed_text(session, "lo", last, V));
    CHECK(memtx_session_position(session) == 5);
    EXPECT_OK(memtx_session_generate_text(session, &opt, &text));
    CHECK(text && reference && strcmp(text, reference) == 0);
    memtx_string_free(text);
    memtx_string_free(reference);
    EXPECT_STATUS(memtx_session_feed_text(session, NULL, NULL, 0), MEMTX_INVALID_ARGUMENT, "text is NULL");
    EXPECT_STATUS(memtx_session_generate_text(session, &opt, NULL), MEMTX_INVALID_ARGUMENT, "out_text is NULL");
  }
  EXPECT_STATUS(memtx_session_reset(NULL), MEMTX_INVALID_ARGUMENT, "session is NULL");

  memtx_session_free(session); /* the session before its model */
  memtx_model_free(model);
  memtx_config_free(cfg);
  free(whole);
  free(last);
  free(again);
}

/* Adapter mode and LoRA: a LoRA adapter on the qwen2-tiny folder gives the folder's logits exactly (B = 0);
 * merging keeps them and leaves a model whose saved folder loads without the base; errors by name. */
static void test_adapter_lora(memtx_context* ctx) {
  enum { T = 6, V = 512 };
  const int64_t tokens[T] = {1, 7, 42, 300, 511, 3};
  float* expected = malloc(sizeof(float) * T * V);
  float* logits = malloc(sizeof(float) * T * V);
  char text[1024], dir[256];
  char* value = NULL;
  memtx_config* cfg = NULL;
  memtx_config* merged = NULL;
  memtx_model* base = NULL;
  memtx_model* adapted = NULL;
  memtx_model* loaded = NULL;
  memtx_model* other = NULL;
  snprintf(dir, sizeof dir, "/tmp/memtx_capi_%d_merged", (int)getpid());
  snprintf(text, sizeof text,
           "model:\n  base_model_name: %s/hf/qwen2-tiny\n  device: cpu\nmemory:\n  use_memory_adapter: false\n"
           "  use_lora: true\n  lora_targets: [q_proj, v_proj, down_proj]\n",
           MEMTX_FIXTURES_DIR);
  EXPECT_OK(memtx_model_load_hf(ctx, MEMTX_FIXTURES_DIR "/hf/qwen2-tiny", &base));
  EXPECT_OK(memtx_forward(base, tokens, 1, T, expected, T * V));
  EXPECT_OK(memtx_config_parse(ctx, text, &cfg));
  EXPECT_OK(memtx_model_create(ctx, cfg, &adapted));
  CHECK(memtx_model_vocab_size(adapted) == V); /* the folder's architecture, not the config's defaults */
  EXPECT_OK(memtx_forward(adapted, tokens, 1, T, logits, T * V));
  CHECK(memcmp(logits, expected, sizeof(float) * T * V) == 0);

  EXPECT_OK(memtx_model_merge_lora(adapted));
  EXPECT_OK(memtx_forward(adapted, tokens, 1, T, logits, T * V));
  CHECK(memcmp(logits, expected, sizeof(float) * T * V) == 0);
  EXPECT_OK(memtx_model_config(adapted, &merged));
  EXPECT_OK(memtx_config_get(merged, "memory.use_lora", &value));
  CHECK(value && strcmp(value, "false") == 0);
  memtx_string_free(value);
  EXPECT_OK(memtx_config_get(merged, "model.base_model_name", &value));
  CHECK(value && strcmp(value, "null") == 0);
  memtx_string_free(value);
  EXPECT_OK(memtx_model_save(adapted, dir));
  EXPECT_OK(memtx_model_load(ctx, dir, &loaded));
  remove_model_dir(dir);
  memset(logits, 0, sizeof(float) * T * V);
  EXPECT_OK(memtx_forward(loaded, tokens, 1, T, logits, T * V));
  CHECK(memcmp(logits, expected, sizeof(float) * T * V) == 0);
  EXPECT_OK(memtx_model_merge_lora(loaded)); /* no adapters: unchanged */
  EXPECT_STATUS(memtx_model_merge_lora(NULL), MEMTX_INVALID_ARGUMENT, "model is NULL");

  EXPECT_OK(memtx_config_set(cfg, "memory.lora_targets", "[q_proj, w_qkv]"));
  EXPECT_STATUS(memtx_model_create(ctx, cfg, &other), MEMTX_CONFIG,
                "'w_qkv' is not a projection of any layer of this model; available: q_proj, k_proj, v_proj, o_proj");
  CHECK(other == NULL);
  EXPECT_OK(memtx_config_set(cfg, "model.base_model_name", "/nonexistent/base"));
  EXPECT_STATUS(memtx_model_create(ctx, cfg, &other), MEMTX_NOT_FOUND, "model.base_model_name: '/nonexistent/base'");
  memtx_model_free(loaded);
  memtx_model_free(adapted);
  memtx_model_free(base);
  memtx_config_free(merged);
  memtx_config_free(cfg);
  free(logits);
  free(expected);
}

int main(void) {
  memtx_context* ctx = NULL;
  memtx_config* cfg = NULL;
  memtx_model* model = NULL;
  char* text = NULL;

  have_fixtures = access(MEMTX_FIXTURES_DIR "/hf/llama-tiny/config.json", R_OK) == 0 &&
                  access(MEMTX_FIXTURES_DIR "/hf/qwen2-tiny/config.json", R_OK) == 0 &&
                  access(MEMTX_FIXTURES_DIR "/tokenizer-bpe/tokenizer.json", R_OK) == 0;
  if (!have_fixtures)
    printf("fixtures not found at %s: the Hugging Face and tokenizer.json checks are skipped\n", MEMTX_FIXTURES_DIR);

  /* versions, statuses, strings */
  CHECK(strcmp(memtx_version(), "0.1.0") == 0);
  CHECK(memtx_abi_version() == MEMTX_ABI_VERSION);
  CHECK(memtx_status_get_code(NULL) == MEMTX_OK);
  CHECK(strcmp(memtx_status_message(NULL), "ok") == 0);
  CHECK(strcmp(memtx_status_code_name(MEMTX_ABI_MISMATCH), "ABI_MISMATCH") == 0);
  CHECK(MEMTX_CONFIG == 4 && MEMTX_INTERNAL == 11 && MEMTX_BUSY == 12); /* codes are fixed forever */
  CHECK(strcmp(memtx_status_code_name(MEMTX_BUSY), "BUSY") == 0);
  memtx_status_free(NULL);
  memtx_string_free(NULL);
  memtx_context_free(NULL);
  memtx_config_free(NULL);
  memtx_model_free(NULL);
  EXPECT_OK(memtx_build_info(&text));
  CHECK(text && strstr(text, "torch_version") && strstr(text, "blas"));
  memtx_string_free(text);
  EXPECT_STATUS(memtx_build_info(NULL), MEMTX_INVALID_ARGUMENT, "out_json is NULL");

  /* context and plugins (the build tree's plugins are found beside the build tree's libmemtx) */
  EXPECT_STATUS(memtx_context_create(NULL, NULL), MEMTX_INVALID_ARGUMENT, "out is NULL");
  EXPECT_OK(memtx_context_create(NULL, &ctx));
  EXPECT_OK(memtx_plugin_list(ctx, &text));
  CHECK(text && strstr(text, "\"causal\"") && strstr(text, "\"infinite\""));
  CHECK(text && strstr(text, "attention.use_qk_norm"));
  memtx_string_free(text);
  EXPECT_STATUS(memtx_plugin_load(ctx, "/nonexistent/libnothing.so"), MEMTX_NOT_FOUND, "/nonexistent/libnothing.so");
  EXPECT_STATUS(memtx_plugin_load(ctx, write_file("fake.so", "not an ELF file")), MEMTX_PLUGIN, "not a loadable shared library");
  EXPECT_STATUS(memtx_plugin_load(ctx, MEMTX_BUILD_PLUGIN_FILE), MEMTX_DUPLICATE, "libmemtx_causal.so");
  EXPECT_STATUS(memtx_plugin_load_dir(ctx, "/nonexistent-dir"), MEMTX_NOT_FOUND, "/nonexistent-dir");
  EXPECT_STATUS(memtx_plugin_load(NULL, "x"), MEMTX_INVALID_ARGUMENT, "ctx is NULL");

  /* configuration */
  EXPECT_STATUS(memtx_config_load(ctx, "/nonexistent/config.yaml", &cfg), MEMTX_NOT_FOUND, "/nonexistent/config.yaml");
  CHECK(cfg == NULL);
  EXPECT_STATUS(memtx_config_load(ctx, write_file("bad.yaml", "model:\n  hidden_dim: [1, 2\n"), &cfg), MEMTX_CONFIG, "bad.yaml");
  EXPECT_STATUS(memtx_config_load(ctx, write_file("typo.yaml", "model:\n  hiden_dim: 64\n"), &cfg), MEMTX_CONFIG, "model.hidden_dim");
  EXPECT_STATUS(memtx_config_parse(ctx, "model:\n  num_heads: many\n", &cfg), MEMTX_CONFIG, "model.num_heads");
  EXPECT_STATUS(memtx_config_parse(ctx, "attention:\n  attn_logit_softcapping: true\n", &cfg), MEMTX_CONFIG, "attn_logit_softcapping");
  EXPECT_OK(memtx_config_parse(ctx,
                               "model:\n  hidden_dim: 32\n  num_heads: 4\n  num_layers: 2\n  intermediate_dim: 64\n"
                               "  vocab_size: 50\n  device: cpu\nmemory:\n  vanilla_mode: true\n",
                               &cfg));
  EXPECT_STATUS(memtx_config_set(cfg, "model.hidden_dim", "abc"), MEMTX_CONFIG, "model.hidden_dim");
  EXPECT_STATUS(memtx_config_set(cfg, "model.no_such_key", "1"), MEMTX_CONFIG, "no_such_key");
  EXPECT_OK(memtx_config_set(cfg, "n_kv_group", "2")); /* a bare seed name resolves to attention.n_kv_group */
  EXPECT_OK(memtx_config_get(cfg, "attention.n_kv_group", &text));
  CHECK(text && strcmp(text, "2") == 0);
  memtx_string_free(text);
  EXPECT_OK(memtx_config_validate(cfg));
  EXPECT_OK(memtx_config_dump(cfg, 0, &text));
  CHECK(text && strstr(text, "hidden_dim: 32"));
  memtx_string_free(text);
  EXPECT_OK(memtx_config_dump(cfg, 1, &text));
  CHECK(text && strstr(text, "\"hidden_dim\": 32"));
  memtx_string_free(text);
  EXPECT_OK(memtx_config_reference(ctx, &text));
  CHECK(text && strstr(text, "attn_logit_softcapping") && strstr(text, "segment_length"));
  memtx_string_free(text);

  /* the schema as JSON: every key with type, default, nullability, choices (only where any) and doc; the
   * keys a plugin declares appear once it is loaded */
  EXPECT_STATUS(memtx_config_schema(NULL, &text), MEMTX_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT_STATUS(memtx_config_schema(ctx, NULL), MEMTX_INVALID_ARGUMENT, "out_json is NULL");
  EXPECT_OK(memtx_config_schema(ctx, &text));
  CHECK(text && text[0] == '[' && text[strlen(text) - 1] == ']');
  CHECK(text && strstr(text, "{\"key\":\"model.hidden_dim\",\"type\":\"int\",\"default\":768,\"nullable\":false,\"doc\":\"Width D"));
  CHECK(text && strstr(text, "{\"key\":\"model.mlp_type\",\"type\":\"string\",\"default\":\"swiglu\",\"nullable\":false,"
                             "\"choices\":[\"swiglu\",\"gelu\"],\"doc\":"));
  CHECK(text && strstr(text, "{\"key\":\"attention.attention_list\",\"type\":\"list of string\",\"default\":null,"
                             "\"nullable\":true,\"doc\":"));
  CHECK(text && strstr(text, "\"key\":\"infini_attention.segment_length\""));
  CHECK(text && !strstr(text, "attention.test_scale_init"));
  memtx_string_free(text);
  {
    memtx_context* bare = NULL;
    memtx_context_options bare_options = memtx_context_default_options();
    bare_options.load_default_plugins = 0;
    EXPECT_OK(memtx_context_create(&bare_options, &bare));
    EXPECT_OK(memtx_plugin_load(bare, MEMTX_TEST_PLUGIN_DIR "/libgood_scale.so"));
    EXPECT_OK(memtx_config_schema(bare, &text));
    CHECK(text && strstr(text, "{\"key\":\"attention.test_scale_init\",\"type\":\"float\",\"default\":1.0,"));
    memtx_string_free(text);
    memtx_context_free(bare);
  }

  /* models */
  EXPECT_OK(memtx_config_set(cfg, "attention.n_kv_group", "3"));
  EXPECT_STATUS(memtx_model_create(ctx, cfg, &model), MEMTX_CONFIG, "n_kv_group");
  EXPECT_OK(memtx_config_set(cfg, "attention.n_kv_group", "2"));
  EXPECT_OK(memtx_config_set(cfg, "attention.attention_list", "[causal, nosuchvariant]"));
  EXPECT_STATUS(memtx_model_create(ctx, cfg, &model), MEMTX_NOT_FOUND, "registered: causal");
  CHECK(model == NULL);
  EXPECT_OK(memtx_config_set(cfg, "attention.attention_list", "[causal, infinite]"));
  EXPECT_OK(memtx_model_create(ctx, cfg, &model));
  CHECK(memtx_model_vocab_size(model) == 50);
  EXPECT_OK(memtx_model_describe(model, &text));
  CHECK(text && strstr(text, "\"infinite\"") && strstr(text, "\"total\""));
  memtx_string_free(text);
  {
    int64_t tokens[6] = {1, 2, 3, 4, 5, 6};
    float* logits = malloc(sizeof(float) * 6 * 50);
    float* again = malloc(sizeof(float) * 6 * 50);
    int64_t bad[2] = {1, 50};
    EXPECT_OK(memtx_forward(model, tokens, 2, 3, logits, 6 * 50));
    EXPECT_STATUS(memtx_forward(model, tokens, 2, 3, logits, 10), MEMTX_INVALID_ARGUMENT, "out_capacity");
    EXPECT_STATUS(memtx_forward(model, NULL, 2, 3, logits, 300), MEMTX_INVALID_ARGUMENT, "tokens is NULL");
    EXPECT_STATUS(memtx_forward(model, tokens, 0, 3, logits, 300), MEMTX_INVALID_ARGUMENT, "batch and seq_len");
    EXPECT_STATUS(memtx_forward(model, bad, 1, 2, logits, 100), MEMTX_INVALID_ARGUMENT, "outside the vocabulary");
    /* weights round trip through safetensors; a corrupt file changes nothing */
    EXPECT_OK(memtx_model_save_weights(model, "/tmp/memtx_capi_weights.safetensors"));
    {
      memtx_model* other = NULL;
      EXPECT_OK(memtx_config_set(cfg, "model.seed", "99"));
      EXPECT_OK(memtx_model_create(ctx, cfg, &other));
      EXPECT_OK(memtx_forward(other, tokens, 2, 3, again, 300));
      CHECK(memcmp(logits, again, sizeof(float) * 300) != 0);
      EXPECT_STATUS(memtx_model_load_weights(other, write_file("corrupt.safetensors", "garbage")), MEMTX_IO, "corrupt.safetensors");
      EXPECT_STATUS(memtx_model_load_weights(other, "/nonexistent.safetensors"), MEMTX_NOT_FOUND, "/nonexistent.safetensors");
      EXPECT_OK(memtx_model_load_weights(other, "/tmp/memtx_capi_weights.safetensors"));
      EXPECT_OK(memtx_forward(other, tokens, 2, 3, again, 300));
      CHECK(memcmp(logits, again, sizeof(float) * 300) == 0);
      memtx_model_free(other);
    }
    free(logits);
    free(again);
  }
  memtx_model_free(model);
  model = NULL;

  /* Hugging Face folders and the fixture check */
  EXPECT_STATUS(memtx_model_load_hf(ctx, "/nonexistent-hf", &model), MEMTX_NOT_FOUND, "config.json");
  CHECK(model == NULL);
  text = (char*)"stale"; /* a failing call sets its string out parameter to NULL */
  EXPECT_STATUS(memtx_check_fixture(ctx, "/nonexistent-hf", &text), MEMTX_NOT_FOUND, "/nonexistent-hf");
  CHECK(text == NULL);
  if (have_fixtures) {
    EXPECT_OK(memtx_model_load_hf(ctx, MEMTX_FIXTURES_DIR "/hf/llama-tiny", &model));
    CHECK(memtx_model_vocab_size(model) == 512);
    memtx_model_free(model);
    EXPECT_OK(memtx_check_fixture(ctx, MEMTX_FIXTURES_DIR "/hf/qwen2-tiny", &text));
    CHECK(text && strstr(text, "\"ok\": true"));
    memtx_string_free(text);
  }

  test_inference(ctx);
  if (have_fixtures) {
    test_tokenizer_files(ctx);
    test_adapter_lora(ctx);
  }
  test_passkey(ctx);
  test_sessions(ctx);
  test_robustness(ctx);
  test_generate_streaming(ctx);
  test_export_hf(ctx);

  memtx_config_free(cfg);
  memtx_context_free(ctx);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
