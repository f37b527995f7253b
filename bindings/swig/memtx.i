/* memtx.i: the SWIG interface shared by the Go and Java bindings: the C API of include/memtx.h plus small C
 * helpers that make its out-parameters and options usable from a managed language without per-language
 * typemaps. It sets no %module: each language file (memtx_go.i, memtx_java.i) sets its %module, defines its
 * own typemaps (token and logit arrays, for the pointer + length arguments named as in memtx.h: tokens,
 * out_tokens, out_logits, out_last_logits, prompt, ...) and then does %include "memtx.i".
 *
 * What is shared here:
 * - the raw callbacks (log callback, progress callback) are ignored: a language polls memtx_train_poll
 *   instead of letting C call into it, and reads log lines from stderr;
 * - out-parameter slots: memtx_X_slot_new() makes a NULL-initialised memtx_X* cell to pass as memtx_X** out,
 *   memtx_X_slot_get() reads it, memtx_X_slot_free() frees the cell (not the handle) for X in context,
 *   config, model, session; memtx_text_slot_* does the same for char** out_text/out_json, and
 *   memtx_text_slot_take() hands the text over as a language string (the C copy is freed with
 *   memtx_string_free);
 * - generation options on the heap with their own copy of the stop tokens (memtx_generate_options_new,
 *   memtx_generate_options_set_stop_tokens, memtx_generate_options_free), so no managed memory is kept in C; the
 *   per-token callback (on_token) and out_stop_reason are not wrapped;
 * - the numeric out-parameters (counts, loss sums, text lengths) as typemaps.i OUTPUT/INOUT arguments;
 * - text with a byte count (the _n calls): the pairs (text, text_len) and (prompt, prompt_len) take SWIG's
 *   (char *STRING, size_t LENGTH) typemap of the language (a Go string, a Java byte[]), so NUL bytes pass whole;
 *   text returned with its length is copied out of its slot by memtx_text_slot_copy into a buffer of that length
 *   (the language maps (char* out_bytes, size_t capacity) to its byte array). */

%{
#include <stdlib.h>
#include <string.h>
#include "memtx.h"
%}

%include <stdint.i>
%include <typemaps.i>

/* memtx/export.h is not read by SWIG: the export macro means nothing to a wrapper. */
#define MEMTX_API

/* Opaque handles: created and freed only by the C API (no default constructor or destructor). */
%nodefaultctor memtx_status;
%nodefaultdtor memtx_status;
%nodefaultctor memtx_context;
%nodefaultdtor memtx_context;
%nodefaultctor memtx_config;
%nodefaultdtor memtx_config;
%nodefaultctor memtx_model;
%nodefaultdtor memtx_model;
%nodefaultctor memtx_session;
%nodefaultdtor memtx_session;

/* Raw C callbacks into the language: not wrapped (progress comes from memtx_train_poll). */
%ignore memtx_context_set_log_callback;
%ignore memtx_model_set_progress_callback;
%ignore memtx_log_callback;
%ignore memtx_progress_callback;
/* The stop tokens of generation options are set through memtx_generate_options_set_stop_tokens, which
 * copies them; the raw pointer member is not exposed. */
%ignore memtx_generate_options::stop_tokens;
%ignore memtx_generate_options::n_stop_tokens;
/* ABI 2's members: struct_size is set by memtx_generate_options_new (from memtx_generate_default_options); the
 * per-token callback (a C function pointer and its user data) and out_stop_reason are C-only. */
%ignore memtx_generate_options::struct_size;
%ignore memtx_generate_options::on_token;
%ignore memtx_generate_options::on_token_user_data;
%ignore memtx_generate_options::out_stop_reason;
%ignore memtx_token_callback;

/* Numeric out-parameters: counts written by the call (OUTPUT), loss sums the call adds to (INOUT). typemaps.i
 * has no size_t entries; size_t is unsigned long on the LP64 targets memtx builds for. */
%apply unsigned long* OUTPUT { size_t* out_count };
%apply unsigned long* OUTPUT { size_t* out_len };
%apply (char *STRING, size_t LENGTH) { (const char* text, size_t text_len) };
%apply (char *STRING, size_t LENGTH) { (const char* prompt, size_t prompt_len) };
%apply double* INOUT { double* out_loss_sum };
%apply unsigned long* INOUT { size_t* out_predicted };

/* Handle out-parameter slots (see the header comment). */
%define MEMTX_HANDLE_SLOT(TYPE)
%inline %{
TYPE** TYPE##_slot_new(void) { return (TYPE**)calloc(1, sizeof(TYPE*)); }
TYPE* TYPE##_slot_get(TYPE** slot) { return slot ? *slot : NULL; }
void TYPE##_slot_free(TYPE** slot) { free(slot); }
%}
%enddef
MEMTX_HANDLE_SLOT(memtx_context)
MEMTX_HANDLE_SLOT(memtx_config)
MEMTX_HANDLE_SLOT(memtx_model)
MEMTX_HANDLE_SLOT(memtx_session)

/* Text out-parameter slots: take() returns the text (NULL when none) and empties the slot; the language
 * copies it into its own string and the C string is then freed with memtx_string_free. */
%newobject memtx_text_slot_take;
%typemap(newfree) char* "memtx_string_free($1);";
%inline %{
char** memtx_text_slot_new(void) { return (char**)calloc(1, sizeof(char*)); }
char* memtx_text_slot_take(char** slot) {
  char* text = slot ? *slot : NULL;
  if (slot) *slot = NULL;
  return text;
}
void memtx_text_slot_free(char** slot) {
  if (!slot) return;
  memtx_string_free(*slot);
  free(slot);
}
/* The text of a _n call (its length as the call reported it): copies min(length, capacity) bytes into out_bytes,
 * frees the text and empties the slot; returns the bytes copied. */
size_t memtx_text_slot_copy(char** slot, char* out_bytes, size_t capacity) {
  char* text = slot ? *slot : NULL;
  if (!text) return 0;
  if (capacity > 0) memcpy(out_bytes, text, capacity);
  memtx_string_free(text);
  *slot = NULL;
  return capacity;
}
%}

/* Generation options on the heap, starting at memtx_generate_default_options(); the stop tokens are a copy
 * the options own. */
%inline %{
memtx_generate_options* memtx_generate_options_new(void) {
  memtx_generate_options* options = (memtx_generate_options*)calloc(1, sizeof(memtx_generate_options));
  if (options) *options = memtx_generate_default_options();
  return options;
}
/* Replaces the stop tokens with a copy of tokens[0..n); returns 0, or -1 when out of memory. */
int memtx_generate_options_set_stop_tokens(memtx_generate_options* options, const int64_t* tokens, size_t n) {
  int64_t* copy = NULL;
  if (!options) return -1;
  if (n > 0) {
    copy = (int64_t*)malloc(n * sizeof(int64_t));
    if (!copy) return -1;
    memcpy(copy, tokens, n * sizeof(int64_t));
  }
  free((void*)options->stop_tokens);
  options->stop_tokens = copy;
  options->n_stop_tokens = n;
  return 0;
}
void memtx_generate_options_free(memtx_generate_options* options) {
  if (!options) return;
  free((void*)options->stop_tokens);
  free(options);
}
/* The context options as a heap object (the C API returns them by value). */
memtx_context_options* memtx_context_options_new(void) {
  memtx_context_options* options = (memtx_context_options*)calloc(1, sizeof(memtx_context_options));
  if (options) *options = memtx_context_default_options();
  return options;
}
void memtx_context_options_free(memtx_context_options* options) { free(options); }
%}

%include "memtx.h"
