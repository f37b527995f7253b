/* memtx.h: the public C API of memtx (memory-augmented transformers on LibTorch).
 *
 * Conventions
 * - Opaque handles: memtx_context (plugin registry, logging), memtx_config, memtx_model. Every
 *   _create/_load has a _free that accepts NULL.
 * - Every fallible call returns memtx_status* : NULL on success, otherwise an object carrying a stable
 *   numeric code and a message naming what is wrong; free it with memtx_status_free. No exception crosses
 *   this boundary and there is no thread-local "last error".
 * - Strings returned to the caller (char** out parameters) are freed with memtx_string_free. Rich results
 *   (model description, plugin list, build info, fixture reports) are JSON text.
 * - Threads: a context is thread-safe; a model is used by one thread at a time.
 * This is the only header the bindings (SWIG) and memtx-cli read. */
#ifndef MEMTX_H
#define MEMTX_H

#include <stddef.h>
#include <stdint.h>

#include "memtx/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MEMTX_VERSION_MAJOR 0
#define MEMTX_VERSION_MINOR 1
#define MEMTX_VERSION_PATCH 0
#define MEMTX_ABI_VERSION 1

/* Status codes: fixed forever (add, never renumber). */
typedef enum memtx_status_code {
  MEMTX_OK = 0,
  MEMTX_INVALID_ARGUMENT = 1,
  MEMTX_NOT_FOUND = 2,
  MEMTX_IO = 3,
  MEMTX_CONFIG = 4,
  MEMTX_PLUGIN = 5,
  MEMTX_ABI_MISMATCH = 6,
  MEMTX_DUPLICATE = 7,
  MEMTX_TORCH = 8,
  MEMTX_OUT_OF_MEMORY = 9,
  MEMTX_CANCELLED = 10,
  MEMTX_INTERNAL = 11
} memtx_status_code;

typedef struct memtx_status memtx_status;
typedef struct memtx_context memtx_context;
typedef struct memtx_config memtx_config;
typedef struct memtx_model memtx_model;

/* ---- status and strings ---- */
MEMTX_API memtx_status_code memtx_status_get_code(const memtx_status* status); /* NULL -> MEMTX_OK */
MEMTX_API const char* memtx_status_message(const memtx_status* status);       /* NULL -> "ok" */
MEMTX_API const char* memtx_status_code_name(memtx_status_code code);          /* "CONFIG", ... */
MEMTX_API void memtx_status_free(memtx_status* status);
MEMTX_API void memtx_string_free(char* text);

/* ---- versions and build ---- */
MEMTX_API const char* memtx_version(void);  /* "0.1.0" */
MEMTX_API int memtx_abi_version(void);      /* MEMTX_ABI_VERSION of the loaded library */
/* JSON: memtx version, LibTorch version, CUDA available, BLAS library in use, threads, plugin ABI. */
MEMTX_API memtx_status* memtx_build_info(char** out_json);

/* ---- context: plugin registry ---- */
typedef struct memtx_context_options {
  int load_default_plugins; /* 1: load the plugins beside libmemtx, the build tree's and MEMTX_PLUGIN_PATH's */
  int log_level;            /* 0 quiet, 1 warnings (default), 2 info, 3 debug */
} memtx_context_options;
MEMTX_API memtx_context_options memtx_context_default_options(void);
/* options may be NULL (defaults). Plugins that fail to load from default paths are reported as warnings
 * and listed by memtx_plugin_list; they never fail context creation. */
MEMTX_API memtx_status* memtx_context_create(const memtx_context_options* options, memtx_context** out);
MEMTX_API void memtx_context_free(memtx_context* ctx);
/* Load one plugin file. On failure the registry is unchanged. Codes: NOT_FOUND (missing file), PLUGIN (not a
 * shared library, missing symbol, register threw), ABI_MISMATCH (plugin ABI or LibTorch fingerprint),
 * DUPLICATE (a variant name already registered). */
MEMTX_API memtx_status* memtx_plugin_load(memtx_context* ctx, const char* path);
/* Load every shared library in a folder; stops at nothing, returns the first failure (others in the list). */
MEMTX_API memtx_status* memtx_plugin_load_dir(memtx_context* ctx, const char* dir);
/* JSON: {"plugins":[{file,name,version,variants:[...]}], "variants":[{name,description,recurrent,plugin,
 * options:[{key,type,default,doc}]}], "failures":[{file,code,message}]} */
MEMTX_API memtx_status* memtx_plugin_list(memtx_context* ctx, char** out_json);

/* ---- configuration ---- */
/* A config with every key at its default (schema: built-in keys plus the options of loaded plugins). */
MEMTX_API memtx_status* memtx_config_create(memtx_context* ctx, memtx_config** out);
/* Load YAML or JSON from a file. Errors name the file, line, key, and expectation. */
MEMTX_API memtx_status* memtx_config_load(memtx_context* ctx, const char* path, memtx_config** out);
MEMTX_API memtx_status* memtx_config_parse(memtx_context* ctx, const char* text, memtx_config** out);
MEMTX_API void memtx_config_free(memtx_config* cfg);
/* key is dotted ("model.hidden_dim"); value is text parsed for the key's type ("256", "true", "[causal, ssm]"). */
MEMTX_API memtx_status* memtx_config_set(memtx_config* cfg, const char* key, const char* value);
MEMTX_API memtx_status* memtx_config_get(const memtx_config* cfg, const char* key, char** out_value);
/* Cross-field validation (also done by memtx_model_create). */
MEMTX_API memtx_status* memtx_config_validate(const memtx_config* cfg);
MEMTX_API memtx_status* memtx_config_dump(const memtx_config* cfg, int as_json, char** out_text);
/* Markdown reference of every key (docs/config.md). */
MEMTX_API memtx_status* memtx_config_reference(memtx_context* ctx, char** out_markdown);

/* ---- models ---- */
/* Builds a model from a validated config with freshly initialised weights. Unknown variant names fail
 * with NOT_FOUND listing the registered names. */
MEMTX_API memtx_status* memtx_model_create(memtx_context* ctx, const memtx_config* cfg, memtx_model** out);
/* Builds a model from a Hugging Face model folder (config.json + *.safetensors) of a supported
 * architecture (Qwen2, Llama), weights loaded by name. */
MEMTX_API memtx_status* memtx_model_load_hf(memtx_context* ctx, const char* dir, memtx_model** out);
MEMTX_API void memtx_model_free(memtx_model* model);
/* JSON: variant per layer, parameter counts (total, per layer, per component), dims, device, dtype. */
MEMTX_API memtx_status* memtx_model_describe(memtx_model* model, char** out_json);
MEMTX_API memtx_status* memtx_model_config(memtx_model* model, memtx_config** out); /* a copy */
/* Weights in safetensors format, names as in memtx_model_describe. */
MEMTX_API memtx_status* memtx_model_save_weights(memtx_model* model, const char* path);
MEMTX_API memtx_status* memtx_model_load_weights(memtx_model* model, const char* path);
MEMTX_API int64_t memtx_model_vocab_size(const memtx_model* model);

/* Token ids [batch, seq_len] (row-major) -> logits [batch, seq_len, vocab] written to out_logits, which
 * holds out_capacity floats (at least batch * seq_len * vocab). */
MEMTX_API memtx_status* memtx_forward(memtx_model* model, const int64_t* tokens, int64_t batch, int64_t seq_len,
                                      float* out_logits, size_t out_capacity);

/* ---- checks against reference outputs ---- */
/* dir: a Hugging Face model folder with io.safetensors beside its weights (see shared fixtures). Runs the
 * model on input_ids and compares logits and every "<module>.out" tensor. JSON report:
 * {"architecture", "tensors":[{name, max_abs_error, tolerance, ok}], "ok"}. Returns OK even when the
 * comparison fails (read "ok"); errors are for unreadable or unsupported folders. */
MEMTX_API memtx_status* memtx_check_fixture(memtx_context* ctx, const char* dir, char** out_json);

#ifdef __cplusplus
}
#endif
#endif /* MEMTX_H */
