/* tests/capi/capi_robustness_test.c: hostile input at the C API boundary, from C: a training output folder whose
 * name is not UTF-8 and a checkpoint whose trainer_state.json holds bytes that are not UTF-8 (a status, never an
 * exception through C frames), a model folder with one flipped byte (refused by its manifest), text holding NUL
 * bytes (whole through the _n calls, in and out). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capi_check.h"

/* Removes a scratch folder this test made under /tmp. */
static void remove_tree(const char* dir) {
  char command[600];
  if (strncmp(dir, "/tmp/memtx_capi_", 16) != 0) return;
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  if (system(command) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* Replaces the first occurrence of `from` in the file by `to` (same length); returns 0 when done. */
static int patch_file(const char* path, const char* from, const char* to) {
  char* text = NULL;
  char* at = NULL;
  long size = 0;
  FILE* f = fopen(path, "r+b");
  if (!f) return 1;
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  text = calloc(1, (size_t)size + 1);
  if (!text || fread(text, 1, (size_t)size, f) != (size_t)size || !(at = strstr(text, from))) {
    free(text);
    fclose(f);
    return 1;
  }
  fseek(f, at - text, SEEK_SET);
  fwrite(to, 1, strlen(to), f);
  fclose(f);
  free(text);
  return 0;
}

static const char* kTrainConfig =
    "model:\n  hidden_dim: 32\n  num_heads: 4\n  num_layers: 1\n  intermediate_dim: 64\n  vocab_size: 259\n"
    "  max_seq_len: 64\n  device: cpu\nmemory:\n  vanilla_mode: true\n"
    "training:\n  training_mode: pretraining\n  dataset_name: \"synthetic:associative_recall?pairs=2&examples=16\"\n"
    "  max_length: 32\n  batch_size: 2\n  max_steps: 2\n  warmup_steps: 0\n  save_steps: 1\n  eval_split: null\n"
    "  num_gpus: 0\n  mixed_precision: 'no'\n";

/* memtx_train writes into a folder whose name is not UTF-8 (its report names it with U+FFFD), and a resume from
 * a checkpoint whose trainer_state.json holds invalid UTF-8 is an IO status naming the file. */
static void test_training_bytes(memtx_context* ctx) {
  memtx_config* cfg = NULL;
  memtx_model* model = NULL;
  char base[256], out[300], path[400];
  char* report = NULL;
  snprintf(base, sizeof base, "/tmp/memtx_capi_%d_train", (int)getpid());
  snprintf(out, sizeof out, "%s/out\xff\xfe", base);
  mkdir(base, 0700);
  EXPECT_OK(memtx_config_parse(ctx, kTrainConfig, &cfg));
  EXPECT_OK(memtx_config_set(cfg, "training.output_dir", out));
  EXPECT_OK(memtx_model_create(ctx, cfg, &model));
  EXPECT_OK(memtx_train(model, cfg));
  EXPECT_OK(memtx_train_report(model, &report));
  CHECK(report && strstr(report, "\"completed\"") && strstr(report, "out\xef\xbf\xbd"));
  memtx_string_free(report);
  snprintf(path, sizeof path, "%s/checkpoint-2/trainer_state.json", out);
  CHECK(access(path, R_OK) == 0);

  /* An older checkpoint (no manifest) whose trainer_state.json holds the bytes FF FE in a string. */
  snprintf(path, sizeof path, "%s/checkpoint-2/manifest.json", out);
  unlink(path);
  snprintf(path, sizeof path, "%s/checkpoint-2/trainer_state.json", out);
  CHECK(patch_file(path, "\"memtx-trainer-state-1\"", "\"memtx-trainer-state\xff\xfe\"") == 0);
  snprintf(path, sizeof path, "%s/checkpoint-2", out);
  EXPECT_OK(memtx_config_set(cfg, "training.resume_from_checkpoint", path));
  EXPECT_OK(memtx_config_set(cfg, "training.max_steps", "3"));
  EXPECT_STATUS(memtx_train(model, cfg), MEMTX_IO, "trainer_state.json");
  EXPECT_OK(memtx_train_report(model, &report));
  CHECK(report && strstr(report, "\"failed\""));
  memtx_string_free(report);
  memtx_model_free(model);
  memtx_config_free(cfg);
  remove_tree(base);
}

/* A saved model folder carries a manifest: a flipped byte in either file is refused naming the file; a folder
 * without a manifest (an older save) still loads. */
static void test_model_folder_manifest(memtx_context* ctx) {
  memtx_config* cfg = NULL;
  memtx_model* model = NULL;
  memtx_model* loaded = NULL;
  char dir[256], path[400];
  snprintf(dir, sizeof dir, "/tmp/memtx_capi_%d_manifest", (int)getpid());
  EXPECT_OK(memtx_config_parse(ctx, kTrainConfig, &cfg));
  EXPECT_OK(memtx_model_create(ctx, cfg, &model));
  EXPECT_OK(memtx_model_save(model, dir));
  snprintf(path, sizeof path, "%s/manifest.json", dir);
  CHECK(access(path, R_OK) == 0);
  EXPECT_OK(memtx_model_load(ctx, dir, &loaded));
  memtx_model_free(loaded);
  loaded = NULL;

  snprintf(path, sizeof path, "%s/config.yaml", dir);
  CHECK(patch_file(path, "hidden_dim: 32", "hidden_dim: 40") == 0);
  EXPECT_STATUS(memtx_model_load(ctx, dir, &loaded), MEMTX_IO, "config.yaml");
  CHECK(loaded == NULL);
  CHECK(patch_file(path, "hidden_dim: 40", "hidden_dim: 32") == 0);
  {
    FILE* f;
    unsigned char byte = 0;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (f) {
      fseek(f, -3, SEEK_END); /* inside the last tensor's data */
      if (fread(&byte, 1, 1, f) == 1) {
        byte ^= 0x10;
        fseek(f, -3, SEEK_END);
        fwrite(&byte, 1, 1, f);
      }
      fclose(f);
    }
  }
  EXPECT_STATUS(memtx_model_load(ctx, dir, &loaded), MEMTX_IO, "model.safetensors");
  CHECK(loaded == NULL);
  snprintf(path, sizeof path, "%s/manifest.json", dir);
  unlink(path); /* an older save: loads unchecked */
  EXPECT_OK(memtx_model_load(ctx, dir, &loaded));
  memtx_model_free(loaded);
  memtx_model_free(model);
  memtx_config_free(cfg);
  remove_tree(dir);
}

/* Sets every weight of the model to 0 (through a weights file whose data area is zeroed): all logits are then
 * equal and greedy decoding picks id 0, which the byte tokenizer decodes to a NUL byte. */
static void zero_weights(memtx_model* model) {
  char path[256];
  unsigned char size[8];
  unsigned long long header = 0, i;
  long end;
  FILE* f;
  snprintf(path, sizeof path, "/tmp/memtx_capi_%d_zero.safetensors", (int)getpid());
  EXPECT_OK(memtx_model_save_weights(model, path));
  f = fopen(path, "r+b");
  CHECK(f != NULL);
  if (!f) return;
  CHECK(fread(size, 1, 8, f) == 8);
  for (i = 8; i-- > 0;) header = (header << 8) | size[i];
  fseek(f, 0, SEEK_END);
  end = ftell(f);
  fseek(f, (long)(8 + header), SEEK_SET);
  for (i = 8 + header; i < (unsigned long long)end; ++i) fputc(0, f);
  fclose(f);
  EXPECT_OK(memtx_model_load_weights(model, path));
  unlink(path);
}

/* Text with NUL bytes: the _n calls take and return it whole; the NUL-terminated calls stop at the NUL. */
static void test_text_with_nul_bytes(memtx_context* ctx) {
  static const char text[] = {'a', 'b', '\0', 'c', 'd'};
  memtx_config* cfg = NULL;
  memtx_model* model = NULL;
  memtx_session* session = NULL;
  memtx_generate_options opt = memtx_generate_default_options();
  int64_t ids[8];
  size_t count = 0, len = 99;
  char* out = NULL;
  EXPECT_OK(memtx_config_parse(ctx, kTrainConfig, &cfg));
  EXPECT_OK(memtx_model_create(ctx, cfg, &model));

  EXPECT_OK(memtx_tokenize_n(model, text, sizeof text, ids, 8, &count));
  CHECK(count == 5 && ids[0] == 'a' && ids[2] == 0 && ids[4] == 'd');
  EXPECT_OK(memtx_tokenize(model, text, ids, 8, &count));
  CHECK(count == 2); /* the NUL-terminated call stops at the NUL */
  EXPECT_OK(memtx_tokenize_n(model, NULL, 0, NULL, 0, &count));
  CHECK(count == 0);
  EXPECT_STATUS(memtx_tokenize_n(model, NULL, 3, NULL, 0, &count), MEMTX_INVALID_ARGUMENT,
                "text is NULL but its length is 3");
  EXPECT_STATUS(memtx_tokenize_n(model, text, sizeof text, ids, 2, &count), MEMTX_INVALID_ARGUMENT, "needs 5 tokens");
  {
    int64_t with_nul[5] = {'a', 'b', 0, 'c', 'd'};
    EXPECT_OK(memtx_detokenize_n(model, with_nul, 5, &out, &len));
    CHECK(out && len == 5 && memcmp(out, text, 5) == 0 && out[5] == '\0');
    memtx_string_free(out);
    out = (char*)"stale";
    len = 99;
    EXPECT_STATUS(memtx_detokenize_n(model, with_nul, 5, NULL, &len), MEMTX_INVALID_ARGUMENT, "out_text is NULL");
    with_nul[1] = 999;
    EXPECT_STATUS(memtx_detokenize_n(model, with_nul, 5, &out, &len), MEMTX_INVALID_ARGUMENT, "999");
    CHECK(out == NULL && len == 0);
  }

  /* generation that produces NUL bytes (id 0 from a model whose weights are all 0) */
  zero_weights(model);
  opt.temperature = 0.0f;
  opt.max_new_tokens = 4;
  opt.stop_at_eos = 0;
  EXPECT_OK(memtx_generate_text_n(model, text, sizeof text, &opt, &out, &len));
  CHECK(out && len == 4 && memcmp(out, "\0\0\0\0", 4) == 0);
  memtx_string_free(out);
  EXPECT_OK(memtx_generate_text(model, "ab", &opt, &out)); /* the NUL-terminated result ends at the first NUL */
  CHECK(out && out[0] == '\0');
  memtx_string_free(out);
  EXPECT_STATUS(memtx_generate_text_n(model, NULL, 2, &opt, &out, &len), MEMTX_INVALID_ARGUMENT, "prompt is NULL");

  EXPECT_OK(memtx_session_create(model, &session));
  EXPECT_OK(memtx_session_feed_text_n(session, text, sizeof text, NULL, 0));
  CHECK(memtx_session_position(session) == 5);
  EXPECT_OK(memtx_session_feed_text(session, text, NULL, 0));
  CHECK(memtx_session_position(session) == 7);
  EXPECT_OK(memtx_session_generate_text_n(session, &opt, &out, &len));
  CHECK(out && len == 4 && memcmp(out, "\0\0\0\0", 4) == 0);
  memtx_string_free(out);
  CHECK(memtx_session_position(session) == 11);
  EXPECT_STATUS(memtx_session_feed_text_n(session, NULL, 1, NULL, 0), MEMTX_INVALID_ARGUMENT, "text is NULL");
  memtx_session_free(session);
  memtx_model_free(model);
  memtx_config_free(cfg);
}

/* A status message that quotes bytes which are not UTF-8 (here a path) carries U+FFFD in their place, so the
 * bindings (JNI's NewStringUTF, Go strings) only ever receive valid UTF-8. */
static void test_status_messages_are_utf8(memtx_context* ctx) {
  memtx_config* cfg = NULL;
  memtx_status* st = memtx_config_load(ctx, "/nonexistent/conf\xff\xfeig.yaml", &cfg);
  const char* message = memtx_status_message(st);
  CHECK(memtx_status_get_code(st) == MEMTX_NOT_FOUND || memtx_status_get_code(st) == MEMTX_IO);
  CHECK(strstr(message, "conf\xef\xbf\xbd\xef\xbf\xbdig.yaml") != NULL);
  CHECK(strchr(message, '\xff') == NULL && strchr(message, '\xfe') == NULL);
  memtx_status_free(st);
  CHECK(cfg == NULL);
}

void test_robustness(memtx_context* ctx) {
  test_status_messages_are_utf8(ctx);
  test_training_bytes(ctx);
  test_model_folder_manifest(ctx);
  test_text_with_nul_bytes(ctx);
}
