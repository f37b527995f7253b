/* forward_dump.c: the C API's side of the Java bindings' bitwise check. Loads a saved model folder, runs
 * memtx_forward on the token ids given (one sequence) and writes the logits as raw native-endian float32 to
 * OUT_FILE. Usage: forward_dump MODEL_DIR OUT_FILE token... ; exit 0 on success, 1 with the status on stderr. */
#include <stdio.h>
#include <stdlib.h>

#include "memtx.h"

static int fail(memtx_status* st) {
  fprintf(stderr, "forward_dump: [%s] %s\n", memtx_status_code_name(memtx_status_get_code(st)), memtx_status_message(st));
  memtx_status_free(st);
  return 1;
}

int main(int argc, char** argv) {
  memtx_context* ctx = NULL;
  memtx_model* model = NULL;
  memtx_status* st;
  if (argc < 4) {
    fprintf(stderr, "usage: %s MODEL_DIR OUT_FILE token...\n", argv[0]);
    return 2;
  }
  const int64_t n = argc - 3;
  int64_t* tokens = malloc(sizeof(int64_t) * (size_t)n);
  for (int64_t i = 0; i < n; ++i) tokens[i] = atoll(argv[3 + i]);
  if ((st = memtx_context_create(NULL, &ctx))) return fail(st);
  if ((st = memtx_model_load(ctx, argv[1], &model))) return fail(st);
  const int64_t vocab = memtx_model_vocab_size(model);
  const size_t count = (size_t)(n * vocab);
  float* logits = malloc(sizeof(float) * count);
  if ((st = memtx_forward(model, tokens, 1, n, logits, count))) return fail(st);
  FILE* out = fopen(argv[2], "wb");
  if (!out || fwrite(logits, sizeof(float), count, out) != count || fclose(out) != 0) {
    fprintf(stderr, "forward_dump: cannot write %s\n", argv[2]);
    return 1;
  }
  free(logits);
  free(tokens);
  memtx_model_free(model);
  memtx_context_free(ctx);
  return 0;
}
