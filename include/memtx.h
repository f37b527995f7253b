/* memtx.h: the public C API of memtx (memory-augmented transformers on LibTorch).
 *
 * Conventions
 * - Opaque handles: memtx_context (plugin registry, logging), memtx_config, memtx_model, memtx_session
 *   (streaming inference). Every _create/_load has a _free that accepts NULL.
 * - Every fallible call returns memtx_status* : NULL on success, otherwise an object carrying a stable
 *   numeric code and a message naming what is wrong; free it with memtx_status_free. No exception crosses
 *   this boundary and there is no thread-local "last error".
 * - Strings returned to the caller (char** out parameters) are freed with memtx_string_free; a failing call
 *   sets a non-NULL char** out parameter to NULL, and so does a failing _create/_load. Rich results
 *   (model description, plugin list, build info, fixture reports) are JSON text.
 * - Text crosses as bytes (UTF-8 for the tokenizers that expect it). The _n calls take text as a pointer and a
 *   byte count and return text with its byte count, so text may hold NUL bytes; the plain calls take and return
 *   NUL-terminated text and stop at the first NUL. Returned text is NUL-terminated in both.
 * - JSON results never hold NaN or Inf (JSON has none): such a number is written as null where a field says so.
 * - Threads, per handle (tests/capi/capi_threads_test.cpp checks each line):
 *   - memtx_context: thread-safe (plugin loading, logging, configs and models made in it, from any thread).
 *   - memtx_config: thread-safe; memtx_config_set waits for readers. A call that takes a config (create, train,
 *     evaluate) works on a copy made when it starts, so a later set does not reach a running call.
 *   - memtx_model: any thread may call it, and calls on one model run one at a time: a second caller waits for
 *     the first (so each result equals the single-threaded one). Different models run in parallel. While
 *     memtx_train runs on a model, every other call that needs the model (on it or on its sessions, from any
 *     thread, including from inside its progress callback) is refused at once with MEMTX_BUSY and changes
 *     nothing. Never waiting: memtx_cancel (also from a signal handler: it only stores an atomic flag),
 *     memtx_train_poll, memtx_train_report, memtx_model_vocab_size.
 *   - memtx_session: like its model (its calls pass the model's gate); position and state_bytes never wait for
 *     the model. Free a session or model only when no call on it is running.
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
/* "MAJOR.MINOR.PATCH" as a string literal (what memtx_version returns). */
#define MEMTX_VERSION_STRINGIFY_(x) #x
#define MEMTX_VERSION_STRINGIFY(x) MEMTX_VERSION_STRINGIFY_(x)
#define MEMTX_VERSION_STRING                                                                            \
  MEMTX_VERSION_STRINGIFY(MEMTX_VERSION_MAJOR) "." MEMTX_VERSION_STRINGIFY(MEMTX_VERSION_MINOR) "." \
      MEMTX_VERSION_STRINGIFY(MEMTX_VERSION_PATCH)
/* 2: memtx_generate_options starts with struct_size and gained repetition_penalty, min_p, max_time, on_token,
 * on_token_user_data and out_stop_reason (rebuild callers made against 1). */
#define MEMTX_ABI_VERSION 2

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
  MEMTX_INTERNAL = 11,
  MEMTX_BUSY = 12 /* the model is in use by memtx_train on another thread: the call was refused, nothing changed */
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
/* Log lines of the library (training progress lines, warnings): level 1 warning, 2 info, 3 debug; lines
 * above the context's log_level are not delivered. Without a callback they go to stderr. The callback runs on
 * the thread that logs; cb NULL restores stderr. */
typedef void (*memtx_log_callback)(int level, const char* line, void* user_data);
MEMTX_API void memtx_context_set_log_callback(memtx_context* ctx, memtx_log_callback cb, void* user_data);
MEMTX_API void memtx_context_set_log_level(memtx_context* ctx, int log_level);
/* Load one plugin file. On failure the registry is unchanged. Codes: NOT_FOUND (missing file), PLUGIN (not a
 * regular file, e.g. a FIFO or a folder, refused before opening; not a shared library, missing symbol, register
 * threw), ABI_MISMATCH (plugin ABI or LibTorch fingerprint), DUPLICATE (a variant name already registered). */
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
/* Everything model creation and training would refuse before reading data: the cross-field rules, unknown
 * attention variants, a missing plugin, a device not present, a base model folder that cannot be read, keys set
 * to a value no layer or component of this model would read (naming the key and who reads it), unsupported
 * training settings. A config must not outlive the context it was made in. */
MEMTX_API memtx_status* memtx_config_validate(const memtx_config* cfg);
MEMTX_API memtx_status* memtx_config_dump(const memtx_config* cfg, int as_json, char** out_text);
/* JSON array of every key of the schema (built-in keys plus the options of loaded plugins):
 * [{"key": "model.hidden_dim", "type": "int", "default": 512, "nullable": false, "choices": [...]?, "doc": "..."}]. */
MEMTX_API memtx_status* memtx_config_schema(memtx_context* ctx, char** out_json);
/* Markdown reference of every key (docs/config.md). */
MEMTX_API memtx_status* memtx_config_reference(memtx_context* ctx, char** out_markdown);

/* ---- models ---- */
/* Builds a model from a validated config with freshly initialised weights. Unknown variant names fail
 * with NOT_FOUND listing the registered names. Adapter mode (model.base_model_name = a local Hugging Face
 * folder, Qwen2 or Llama): the folder's config.json fixes the architecture and its weights fill the base
 * (frozen with model.freeze_base_model), memory layers and LoRA adapters are added as the config asks, and the
 * folder's tokenizer is the model's (unless model.tokenizer is set); NOT_FOUND when the folder is missing.
 * LoRA (memory.use_lora or memory.use_both_memory_and_lora) wraps the projections named in memory.lora_targets
 * in every layer that has them; CONFIG, listing the available names, when a target is a projection of no layer. */
MEMTX_API memtx_status* memtx_model_create(memtx_context* ctx, const memtx_config* cfg, memtx_model** out);
/* Builds a model from a Hugging Face model folder (config.json + *.safetensors) of a supported
 * architecture (Qwen2, Llama), weights loaded by name; IO naming the tensor when a weight is NaN or Inf. */
MEMTX_API memtx_status* memtx_model_load_hf(memtx_context* ctx, const char* dir, memtx_model** out);
MEMTX_API void memtx_model_free(memtx_model* model);
/* JSON: variant per layer, parameter counts (total, per layer, per component), dims, device, dtype. */
MEMTX_API memtx_status* memtx_model_describe(memtx_model* model, char** out_json);
MEMTX_API memtx_status* memtx_model_config(memtx_model* model, memtx_config** out); /* a copy */
/* Weights in safetensors format, names as in memtx_model_describe, each tensor in the model's own dtype: the
 * model.safetensors of a model folder (without the frozen base weights of an adapter model, which its base folder
 * holds). load checks the whole file first (names, shapes, base fingerprint, no NaN or Inf) and changes nothing when
 * it fails. */
MEMTX_API memtx_status* memtx_model_save_weights(memtx_model* model, const char* path);
MEMTX_API memtx_status* memtx_model_load_weights(memtx_model* model, const char* path);
MEMTX_API int64_t memtx_model_vocab_size(const memtx_model* model);
/* Folds every LoRA adapter into its projection's weight (W += lora_alpha / lora_rank * B A) and removes the
 * adapters, for export: the logits stay the same (to float rounding), parameter names become the plain
 * model's, and the model's config says memory.use_lora: false, memory.use_both_memory_and_lora: false and
 * model.base_model_name: null, so memtx_model_save then writes a folder that loads without the base folder.
 * A model without adapters is left unchanged. */
MEMTX_API memtx_status* memtx_model_merge_lora(memtx_model* model);

/* Token ids [batch, seq_len] (row-major) -> logits [batch, seq_len, vocab] written to out_logits, which
 * holds out_capacity floats (at least batch * seq_len * vocab). */
MEMTX_API memtx_status* memtx_forward(memtx_model* model, const int64_t* tokens, int64_t batch, int64_t seq_len,
                                      float* out_logits, size_t out_capacity);

/* A folder written by memtx (memtx_model_save, a training checkpoint "checkpoint-<step>", or a run's
 * "final_model"): config.yaml + model.safetensors. Plugins named by the config must be loaded in ctx. The files are
 * first checked against the folder's manifest.json (a checkpoint's also covers trainer_state.json, whose step must
 * be the folder's number): IO naming the file whose size or digest differs; a folder without a manifest (saved by
 * an older version) loads unchecked. IO naming the tensor when a weight is NaN or Inf. */
MEMTX_API memtx_status* memtx_model_load(memtx_context* ctx, const char* dir, memtx_model** out);
/* Writes config.yaml, model.safetensors (fp32) and manifest.json (their sizes and digests) into dir (created when
 * missing). */
MEMTX_API memtx_status* memtx_model_save(memtx_model* model, const char* dir);
/* Writes the model as a Hugging Face folder that transformers loads with AutoModelForCausalLM.from_pretrained
 * and no custom code: config.json, model.safetensors (HF tensor names, metadata format=pt), generation_config.json
 * and the tokenizer files (a tokenizer.json or tokenizer.model copied with its tokenizer_config.json; the byte
 * tokenizer as an equivalent byte-level tokenizer.json). LoRA adapters are folded into the written weights; the
 * model itself is not changed. Exportable: models whose every layer is causal (-> Llama; Qwen2 with
 * model.attention_bias), mla (-> DeepSeek-V3, dense layers) or ssm (-> Mamba). CONFIG, naming the layers or
 * settings, for the others: infini, linear, co4 or plugin layers, mixed variants, memory-token layers, settings
 * a config.json cannot express (QK-norm, soft-capping, ...). The same model writes the same bytes. */
MEMTX_API memtx_status* memtx_model_save_hf(memtx_model* model, const char* dir);
/* Writes the model's LoRA adapters as a PEFT adapter folder (adapter_config.json, adapter_model.safetensors).
 * base_dir non-NULL: the model without its adapters is also written there as a Hugging Face folder
 * (memtx_model_save_hf's files) and the adapter names it as its base (absolute path); NULL or "": the adapter names
 * the model's model.base_model_name (INVALID_ARGUMENT when it has none). INVALID_ARGUMENT without adapters. */
MEMTX_API memtx_status* memtx_model_save_peft(memtx_model* model, const char* adapter_dir, const char* base_dir);

/* ---- tokenizer ----
 * A model's tokenizer is its config's model.tokenizer: "byte" (built in, 259 ids) or a tokenizer.json,
 * a SentencePiece .model, or a folder holding one; a model loaded from a Hugging Face folder uses the
 * folder's. Loaded on first use; Error CONFIG when its vocabulary is larger than model.vocab_size. */
/* Writes the ids of text into out_tokens (capacity entries) and their number into *out_count. With
 * out_tokens NULL only *out_count is set; with too small a capacity nothing is written and the call
 * fails with INVALID_ARGUMENT giving the count needed. Special tokens written in the text become their ids. */
MEMTX_API memtx_status* memtx_tokenize(memtx_model* model, const char* text, int64_t* out_tokens, size_t capacity,
                                       size_t* out_count);
MEMTX_API memtx_status* memtx_detokenize(memtx_model* model, const int64_t* tokens, size_t count, char** out_text);
/* The same with text as bytes: text_len bytes from text (NUL bytes included; text may be NULL when text_len is 0),
 * and the decoded text with its length in bytes in *out_len (out_len may be NULL). */
MEMTX_API memtx_status* memtx_tokenize_n(memtx_model* model, const char* text, size_t text_len, int64_t* out_tokens,
                                         size_t capacity, size_t* out_count);
MEMTX_API memtx_status* memtx_detokenize_n(memtx_model* model, const int64_t* tokens, size_t count, char** out_text,
                                           size_t* out_len);

/* ---- generation ---- */
/* Why a generation ended (written to *options->out_stop_reason when that is not NULL). */
typedef enum memtx_stop_reason {
  MEMTX_STOP_MAX_TOKENS = 0, /* max_new_tokens (or the output capacity) new tokens were made */
  MEMTX_STOP_TOKEN = 1,      /* a stop token (or the end-of-sequence token) was drawn; it is not returned */
  MEMTX_STOP_CANCELLED = 2,  /* memtx_cancel: the call returns CANCELLED */
  MEMTX_STOP_CALLBACK = 3,   /* on_token returned non-zero: the call succeeds with the tokens so far */
  MEMTX_STOP_MAX_TIME = 4    /* max_time seconds had passed: the call succeeds with the tokens so far */
} memtx_stop_reason;
/* Called on the generating thread for every new token (never for a stop token), in order, before the next one
 * is drawn. text_piece/piece_len: the text this token completes, i.e. the decoded continuation grows by exactly
 * these bytes; bytes of an unfinished UTF-8 character are held back until a later token completes it (so a piece
 * may be empty). The pieces of one call concatenate to the text the _text calls return. In the id calls
 * (memtx_generate, memtx_session_generate) an id the model's tokenizer cannot decode gives text_piece NULL and
 * piece_len 0. text_piece is valid only during the call (not NUL-terminated). Return non-zero to stop: the token
 * just given is kept and the call succeeds. If bytes are still held when generation ends (an unfinished
 * character), on_token is called once more with token -1 and those bytes (its return value is then ignored). It
 * must not call functions that use the same model or its sessions (they would wait for this call to end);
 * memtx_cancel is fine. */
typedef int (*memtx_token_callback)(void* user_data, int64_t token, const char* text_piece, size_t piece_len);
/* Start from memtx_generate_default_options() (it sets struct_size) and change fields. The next token is drawn
 * from the last logits z after these steps, in this order (the order of Hugging Face transformers):
 *   1. repetition penalty (also when greedy): for each id in the prompt or generated so far (a session: the
 *      whole stream), z > 0 becomes z / repetition_penalty and z < 0 becomes z * repetition_penalty;
 *   2. temperature 0: argmax, and the rest is skipped; otherwise z / temperature;
 *   3. top-k, 4. top-p (nucleus), 5. min-p: ids whose probability is below min_p times the top probability
 *      are dropped; 6. a draw from softmax(z) with the seeded generator. */
typedef struct memtx_generate_options {
  size_t struct_size;         /* sizeof(memtx_generate_options) of the caller; a call refuses (INVALID_ARGUMENT)
                                 options whose struct_size is not one the library knows */
  int64_t max_new_tokens;     /* 64 */
  float temperature;          /* 1.0; 0 = greedy (argmax) */
  int64_t top_k;              /* 0 = no top-k filter */
  float top_p;                /* 1.0 = no nucleus filter; keeps the smallest set whose probability >= top_p */
  uint64_t seed;              /* sampling RNG seed: the same seed gives the same tokens */
  const int64_t* stop_tokens; /* generation ends when one of these is produced (it is not returned) */
  size_t n_stop_tokens;
  int stop_at_eos;            /* 1: the tokenizer's end-of-sequence token also stops (default) */
  float repetition_penalty;   /* 1.0 = off; > 0 (CTRL's penalty: > 1 discourages repeating a seen id) */
  float min_p;                /* 0 = off; in [0, 1] */
  double max_time;            /* 0 = no limit; else the call stops after the first token made once max_time
                                 seconds of wall clock (counted from the call's start) have passed */
  memtx_token_callback on_token; /* NULL = none: streaming of each new token (see memtx_token_callback) */
  void* on_token_user_data;      /* passed to on_token */
  memtx_stop_reason* out_stop_reason; /* NULL, or where a call that returns OK or CANCELLED writes why it ended */
} memtx_generate_options;
MEMTX_API memtx_generate_options memtx_generate_default_options(void);
/* Continues prompt (prompt_len >= 1 ids) with a key/value cache (one forward over the prompt, then one
 * token per step). Writes the new tokens (not the prompt, not the stop token) into out_tokens, at most
 * capacity of them (capacity < max_new_tokens cuts generation short), and their number into *out_count.
 * options NULL = defaults. */
MEMTX_API memtx_status* memtx_generate(memtx_model* model, const int64_t* prompt, size_t prompt_len,
                                       const memtx_generate_options* options, int64_t* out_tokens, size_t capacity,
                                       size_t* out_count);
/* The same on text: tokenizes prompt with the model's tokenizer and returns the continuation's text. */
MEMTX_API memtx_status* memtx_generate_text(memtx_model* model, const char* prompt,
                                            const memtx_generate_options* options, char** out_text);
/* memtx_generate_text with text as bytes: prompt_len bytes from prompt (NUL bytes included); the continuation
 * (which may hold NUL bytes) with its length in *out_len (out_len may be NULL). */
MEMTX_API memtx_status* memtx_generate_text_n(memtx_model* model, const char* prompt, size_t prompt_len,
                                              const memtx_generate_options* options, char** out_text,
                                              size_t* out_len);

/* ---- chat ----
 * The model's chat format: the "chat_template" of the tokenizer_config.json beside the model's tokenizer (in a
 * Hugging Face folder, or beside the file or in the folder that model.tokenizer names; else the folder's
 * chat_template.jinja or chat_template.json), rendered by memtx's engine for the Jinja subset of chat templates
 * as transformers' apply_chat_template does (variables: messages, add_generation_prompt, tools = none and the
 * special tokens of tokenizer_config.json); without a template, ChatML ("<|im_start|>role\ncontent<|im_end|>\n").
 * A template the engine cannot parse is rendered by its family's markers (ChatML, Llama 3), else as ChatML, and
 * "warning" says why. A template that fails (raise_exception, e.g. roles that do not alternate) gives CONFIG.
 * messages_json: [{"role": "system"|"user"|"assistant"|..., "content": "..."}, ...].
 * JSON: {"text": the conversation (ending with the assistant's header when add_generation_prompt is non-zero),
 * "format": "chatml"|"llama3"|"gemma"|"phi3"|"template" (the family by its markers), "source": the file the
 * template was read from or "default", "end_of_turn": the text that ends a turn ("<|im_end|>", "<|eot_id|>",
 * "<end_of_turn>", "<|end|>", else the eos_token), "warning": "" or why the model's template was not used}.
 * INVALID_ARGUMENT for messages_json that is not such a list. */
MEMTX_API memtx_status* memtx_chat_render(memtx_model* model, const char* messages_json, int add_generation_prompt,
                                          char** out_json);

/* ---- sessions ----
 * A session is one stream (batch 1) that a model reads piece by piece, in pieces of any size, carrying its
 * per-sequence state (recurrent memories, the unfinished segment's keys and values, key/value caches) from one
 * call to the next: the pieces give the same logits as one memtx_forward over the whole stream. With segments
 * (infini layers, infini_attention.segment_length) every layer's state is bounded, so a stream of any length
 * takes bounded memory; softmax layers without segments keep a cache of the whole stream.
 * The session uses its model, which must outlive it (free the session first). Sessions follow their model's
 * thread rules (see Threads above); memtx_cancel(model) stops memtx_session_generate. */
typedef struct memtx_session memtx_session;
MEMTX_API memtx_status* memtx_session_create(memtx_model* model, memtx_session** out);
MEMTX_API void memtx_session_free(memtx_session* session);
/* Continues the stream with n token ids (n = 0 feeds nothing). out_last_logits (may be NULL) receives the
 * logits after the stream's last token (vocab floats; capacity >= memtx_model_vocab_size). INVALID_ARGUMENT
 * for an id outside the vocabulary (the stream is then unchanged), or for out_last_logits on an empty stream. */
MEMTX_API memtx_status* memtx_session_feed(memtx_session* session, const int64_t* tokens, size_t n,
                                           float* out_last_logits, size_t capacity);
/* The same on text, tokenized on its own with the model's tokenizer (no beginning-of-sequence token added). */
MEMTX_API memtx_status* memtx_session_feed_text(memtx_session* session, const char* text, float* out_last_logits,
                                                size_t capacity);
/* The same on text_len bytes from text (NUL bytes included; text may be NULL when text_len is 0). */
MEMTX_API memtx_status* memtx_session_feed_text_n(memtx_session* session, const char* text, size_t text_len,
                                                  float* out_last_logits, size_t capacity);
/* Feeds like memtx_session_feed and adds the next-token loss (nats) of the fed tokens to *out_loss_sum and
 * their number to *out_predicted: every token but the stream's first is predicted from the tokens before it,
 * so the mean loss of a stream fed in any pieces is the same. */
MEMTX_API memtx_status* memtx_session_feed_loss(memtx_session* session, const int64_t* tokens, size_t n,
                                                double* out_loss_sum, size_t* out_predicted);
/* Continues the stream like memtx_generate continues a prompt (options NULL = defaults): the new tokens (not
 * the stop token) are written to out_tokens and become part of the stream, so a later feed or generate
 * follows them. INVALID_ARGUMENT on an empty stream. */
MEMTX_API memtx_status* memtx_session_generate(memtx_session* session, const memtx_generate_options* options,
                                               int64_t* out_tokens, size_t capacity, size_t* out_count);
/* The same, returning the continuation's text (only ids the tokenizer can decode are drawn). */
MEMTX_API memtx_status* memtx_session_generate_text(memtx_session* session, const memtx_generate_options* options,
                                                    char** out_text);
/* The same, with the text's length in bytes in *out_len (out_len may be NULL): the text may hold NUL bytes. */
MEMTX_API memtx_status* memtx_session_generate_text_n(memtx_session* session, const memtx_generate_options* options,
                                                      char** out_text, size_t* out_len);
/* Back to an empty stream. */
MEMTX_API memtx_status* memtx_session_reset(memtx_session* session);
/* Tokens in the stream so far (0 for NULL). */
MEMTX_API int64_t memtx_session_position(const memtx_session* session);
/* Bytes held by the stream's state tensors (0 for NULL): constant over a stream with segments, once the first
 * segment is full, at positions with the same remainder modulo the segment length. */
MEMTX_API int64_t memtx_session_state_bytes(const memtx_session* session);

/* ---- evaluation ---- */
/* Mean next-token loss, perplexity and token accuracy (the share of counted targets that are the model's top
 * choice) of the model over the evaluation data that cfg's training section
 * names (training.eval_split, or the held-out training.eval_fraction; at most training.eval_max_batches
 * batches of training.batch_size windows of training.max_length tokens). cfg NULL = the model's config.
 * JSON: {"split", "loss", "perplexity", "accuracy", "sequence_accuracy", "scored_sequences", "tokens",
 * "sequences", "batches", "seconds"}; sequence_accuracy is the share of the scored_sequences windows (those with
 * a counted target) right at every counted target: exact match of the answers when each window holds one
 * prompt-and-answer example whose answer alone counts. A segmented
 * model (Infini-attention) reads each whole window through its segments, carrying its memory.
 * NOT_FOUND when the data has no evaluation split; TORCH when the loss is not finite (the model's logits hold NaN
 * or Inf). A perplexity beyond the double range (a loss above ~709 nats) is null. */
MEMTX_API memtx_status* memtx_evaluate(memtx_model* model, const memtx_config* cfg, char** out_json);

/* ---- passkey retrieval ----
 * The Infini-attention paper's passkey test with the model's tokenizer: filler text of `length` tokens with
 * "The pass key is NNNNN. Remember it. NNNNN is the pass key." at a `depth` (0 = the very start, in the
 * first segment; 1 = right before the question), then "What is the pass key? The pass key is". Each prompt
 * is streamed through the model with one state (bounded memory with infini layers), the answer decoded
 * greedily; a trial is correct when the answer's digits equal the key. Trial t uses the same key in every
 * cell. options_json (NULL = defaults): {"lengths": [1024], "depths": [0, 0.25, 0.5, 0.75, 1],
 * "trials": 10, "digits": the digits of the model's training data when that is synthetic:passkey, else 5,
 * "seed": 0, "chunk_tokens": 0 (tokens per forward; 0 = the segment length, or 512), "batch_size": 16
 * (trials run together)}; unknown keys are INVALID_ARGUMENT.
 * JSON: {"lengths", "depths", "trials", "digits", "seed", "segment_length", "chunk_tokens", "accuracy",
 * "seconds", "cells": [{"length", "depth", "accuracy", "correct", "trials", "digit_accuracy",
 * "mean_log_likelihood" (of the answer, nats), "mean_depth" (realised), "first_needle_begin",
 * "first_needle_segment", "results": [{"passkey", "output", "correct", "digits_right", "log_likelihood",
 * "needle_begin", "needle_end", "depth"}]}]} with the cells ordered lengths outer, depths inner.
 * CANCELLED after memtx_cancel(model). */
MEMTX_API memtx_status* memtx_passkey(memtx_model* model, const char* options_json, char** out_json);

/* ---- training ---- */
typedef enum memtx_train_event {
  MEMTX_EVENT_STEP = 0,       /* an optimizer step finished */
  MEMTX_EVENT_EVAL = 1,       /* an evaluation finished (eval_loss is new) */
  MEMTX_EVENT_CHECKPOINT = 2, /* a checkpoint was written */
  MEMTX_EVENT_DONE = 3        /* training ended (completed, early-stopped, cancelled) */
} memtx_train_event;

typedef struct memtx_train_progress {
  memtx_train_event event;
  int64_t step;              /* optimizer steps completed */
  int64_t total_steps;
  int64_t epoch;             /* passes over the training data completed */
  int64_t tokens_seen;       /* input tokens trained on so far (batch rows x max_length per micro-batch) */
  double loss;               /* the last step's training loss (mean over its micro-batches) */
  double learning_rate;      /* the last step's learning rate of the main parameter group */
  double grad_norm;          /* the last step's global gradient norm before clipping */
  double tokens_per_second;  /* training throughput since this run (or resume) began */
  double eta_seconds;        /* estimated time to the end; -1 when unknown */
  double eval_loss;          /* the last evaluation loss; NaN before the first evaluation */
  double elapsed_seconds;
} memtx_train_progress;

/* Called on the training thread after every step and at each event; return non-zero to stop training:
 * it then writes a checkpoint and memtx_train returns CANCELLED. cb NULL removes the callback. */
typedef int (*memtx_progress_callback)(const memtx_train_progress* progress, void* user_data);
MEMTX_API memtx_status* memtx_model_set_progress_callback(memtx_model* model, memtx_progress_callback cb,
                                                          void* user_data);
/* Trains the model in place with cfg's training section (cfg NULL = the model's own config; cfg's model
 * section must describe the same network). Writes checkpoints, metrics.jsonl and final_model/ under
 * training.output_dir; resumes from training.resume_from_checkpoint ("latest" = the newest checkpoint of
 * output_dir; newer checkpoints that fail their checks are skipped, each logged with the reason). Returns
 * CANCELLED (after writing a checkpoint) when stopped by memtx_cancel or the callback;
 * TORCH with the step when the loss is not finite and training.on_nonfinite_loss is stop. In a process whose
 * environment names a data-parallel run (torchrun's RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT;
 * memtx-cli train --nproc_per_node sets them), it trains as one rank of that run: every rank must call it with
 * the same config (CONFIG otherwise); rank 0 writes the files and calls the progress callback; a failed peer
 * gives IO naming it. */
MEMTX_API memtx_status* memtx_train(memtx_model* model, const memtx_config* cfg);
/* The latest progress of a running (or the last) memtx_train; safe from any thread. */
MEMTX_API memtx_status* memtx_train_poll(memtx_model* model, memtx_train_progress* out);
/* Asks a running memtx_train, memtx_evaluate, memtx_generate or memtx_session_generate on this model to stop;
 * safe from any thread and from a signal handler. The flag is cleared when the next such call starts. */
MEMTX_API void memtx_cancel(memtx_model* model);
/* JSON summary of the last memtx_train: {"status": "completed"|"early_stopped"|"cancelled"|"failed",
 * "steps", "epochs", "final_loss", "best_eval_loss", "best_checkpoint", "last_checkpoint", "final_model",
 * "metrics_file", "device", "precision", "tokens_per_second", "seconds", "skipped_steps"}. */
MEMTX_API memtx_status* memtx_train_report(memtx_model* model, char** out_json);

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
