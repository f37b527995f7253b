/* tests/capi/capi_test.c: the C API exercised from C (compiled as C99): every call, and every error path
 * with its status code and a fragment of its message. Prints "N passed, N failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memtx.h"

static int passed = 0, failed = 0;

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (cond) {                                                           \
      ++passed;                                                           \
    } else {                                                              \
      ++failed;                                                           \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                     \
  } while (0)

/* Asserts a status has the code and its message contains fragment; frees it. */
static void expect_status(memtx_status* st, memtx_status_code code, const char* fragment, int line) {
  const char* message = memtx_status_message(st);
  if (memtx_status_get_code(st) != code || (fragment && !strstr(message, fragment))) {
    ++failed;
    fprintf(stderr, "capi_test.c:%d: expected %s containing '%s', got %s: %s\n", line, memtx_status_code_name(code),
            fragment ? fragment : "", memtx_status_code_name(memtx_status_get_code(st)), message);
  } else {
    ++passed;
  }
  memtx_status_free(st);
}
#define EXPECT_STATUS(call, code, fragment) expect_status((call), (code), (fragment), __LINE__)
#define EXPECT_OK(call) expect_status((call), MEMTX_OK, NULL, __LINE__)

static const char* write_file(const char* name, const char* text) {
  static char path[512];
  snprintf(path, sizeof path, "/tmp/memtx_capi_%d_%s", (int)getpid(), name);
  FILE* f = fopen(path, "wb");
  fputs(text, f);
  fclose(f);
  return path;
}

int main(void) {
  memtx_context* ctx = NULL;
  memtx_config* cfg = NULL;
  memtx_model* model = NULL;
  char* text = NULL;

  /* versions, statuses, strings */
  CHECK(strcmp(memtx_version(), "0.1.0") == 0);
  CHECK(memtx_abi_version() == MEMTX_ABI_VERSION);
  CHECK(memtx_status_get_code(NULL) == MEMTX_OK);
  CHECK(strcmp(memtx_status_message(NULL), "ok") == 0);
  CHECK(strcmp(memtx_status_code_name(MEMTX_ABI_MISMATCH), "ABI_MISMATCH") == 0);
  CHECK(MEMTX_CONFIG == 4 && MEMTX_INTERNAL == 11); /* codes are fixed forever */
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
  EXPECT_OK(memtx_model_load_hf(ctx, MEMTX_FIXTURES_DIR "/hf/llama-tiny", &model));
  CHECK(memtx_model_vocab_size(model) == 512);
  memtx_model_free(model);
  EXPECT_OK(memtx_check_fixture(ctx, MEMTX_FIXTURES_DIR "/hf/qwen2-tiny", &text));
  CHECK(text && strstr(text, "\"ok\": true"));
  memtx_string_free(text);

  memtx_config_free(cfg);
  memtx_context_free(ctx);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
