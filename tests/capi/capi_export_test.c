/* tests/capi/capi_export_test.c: memtx_model_save_hf and memtx_model_save_peft from C: the files of the Hugging
 * Face folder, a folder memtx imports back to the same logits, the refusals (a model with an infini layer names
 * it; an adapter export without adapters or a base), and NULL arguments. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capi_check.h"

static memtx_model* model_from(memtx_context* ctx, const char* yaml) {
  memtx_config* cfg = NULL;
  memtx_model* model = NULL;
  EXPECT_OK(memtx_config_parse(ctx, yaml, &cfg));
  EXPECT_OK(memtx_model_create(ctx, cfg, &model));
  memtx_config_free(cfg);
  return model;
}

#define TINY "model:\n  hidden_dim: 32\n  num_heads: 4\n  num_layers: 2\n  intermediate_dim: 64\n" \
             "  vocab_size: 259\n  device: cpu\n  tie_embeddings: false\n"

void test_export_hf(memtx_context* ctx) {
  char dir[] = "/tmp/memtx_capi_export_XXXXXX";
  char path[512];
  int64_t tokens[6] = {72, 101, 108, 108, 111, 33};
  float a[6 * 259], b[6 * 259];
  memtx_model* model = model_from(ctx, TINY "memory:\n  vanilla_mode: true\n");
  memtx_model* back = NULL;
  size_t i;
  double worst = 0.0;
  if (!mkdtemp(dir)) {
    CHECK(0);
    return;
  }
  EXPECT_OK(memtx_model_save_hf(model, dir));
  snprintf(path, sizeof path, "%s/config.json", dir);
  CHECK(access(path, R_OK) == 0);
  snprintf(path, sizeof path, "%s/tokenizer.json", dir);
  CHECK(access(path, R_OK) == 0);
  snprintf(path, sizeof path, "%s/generation_config.json", dir);
  CHECK(access(path, R_OK) == 0);
  EXPECT_OK(memtx_model_load_hf(ctx, dir, &back));
  EXPECT_OK(memtx_forward(model, tokens, 1, 6, a, 6 * 259));
  EXPECT_OK(memtx_forward(back, tokens, 1, 6, b, 6 * 259));
  for (i = 0; i < 6 * 259; ++i) {
    const double d = a[i] > b[i] ? a[i] - b[i] : b[i] - a[i];
    if (d > worst) worst = d;
  }
  CHECK(worst < 1e-5);
  memtx_model_free(back);

  EXPECT_STATUS(memtx_model_save_peft(model, dir, NULL), MEMTX_INVALID_ARGUMENT, "no model.base_model_name");
  EXPECT_STATUS(memtx_model_save_peft(model, dir, dir), MEMTX_INVALID_ARGUMENT, "no LoRA adapters");
  EXPECT_STATUS(memtx_model_save_hf(NULL, dir), MEMTX_INVALID_ARGUMENT, "model is NULL");
  EXPECT_STATUS(memtx_model_save_hf(model, NULL), MEMTX_INVALID_ARGUMENT, "dir is NULL");
  memtx_model_free(model);

  model = model_from(ctx, TINY "memory:\n  vanilla_mode: true\nattention:\n  attention_list: [causal, infini]\n");
  EXPECT_STATUS(memtx_model_save_hf(model, dir), MEMTX_CONFIG, "layer 1 'infini'");
  memtx_model_free(model);
  snprintf(path, sizeof path, "rm -rf '%s'", dir);
  CHECK(system(path) == 0);
}
