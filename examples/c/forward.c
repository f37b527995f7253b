/* examples/c/forward.c: build a model from a YAML config through the C API and print the most likely next
 * token at every position. Usage: forward CONFIG.yaml [token ...] */
#include <stdio.h>
#include <stdlib.h>

#include "memtx.h"

static int fail(memtx_status* st) {
  fprintf(stderr, "error [%s]: %s\n", memtx_status_code_name(memtx_status_get_code(st)), memtx_status_message(st));
  memtx_status_free(st);
  return 1;
}

int main(int argc, char** argv) {
  memtx_context* ctx = NULL;
  memtx_config* cfg = NULL;
  memtx_model* model = NULL;
  memtx_status* st;
  int64_t tokens[64];
  int64_t n = 0, t, v;
  if (argc < 2) {
    fprintf(stderr, "usage: %s CONFIG.yaml [token ...]\n", argv[0]);
    return 2;
  }
  for (int i = 2; i < argc && n < 64; ++i) tokens[n++] = atoll(argv[i]);
  if (n == 0) tokens[n++] = 1;
  if ((st = memtx_context_create(NULL, &ctx))) return fail(st);
  if ((st = memtx_config_load(ctx, argv[1], &cfg))) return fail(st);
  if ((st = memtx_model_create(ctx, cfg, &model))) return fail(st);
  const int64_t vocab = memtx_model_vocab_size(model);
  float* logits = malloc(sizeof(float) * (size_t)(n * vocab));
  if ((st = memtx_forward(model, tokens, 1, n, logits, (size_t)(n * vocab)))) return fail(st);
  for (t = 0; t < n; ++t) {
    int64_t best = 0;
    for (v = 1; v < vocab; ++v)
      if (logits[t * vocab + v] > logits[t * vocab + best]) best = v;
    printf("position %lld: token %lld -> next %lld\n", (long long)t, (long long)tokens[t], (long long)best);
  }
  free(logits);
  memtx_model_free(model);
  memtx_config_free(cfg);
  memtx_context_free(ctx);
  return 0;
}
