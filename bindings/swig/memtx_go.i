/* memtx_go.i: the Go part of the SWIG bindings. Generates the low-level package memtx/internal/capi
 * (swig -go -cgo -intgosize 64 -DSWIGWORDSIZE64 -module capi: int64_t is C's long, as in memtx.h on LP64); the
 * idiomatic package memtx (bindings/go) is written on top of it. cgo finds libmemtx through pkg-config (memtx.pc). The typemaps below turn the C API's pointer + length
 * arguments into Go slices, passed to C without a copy (C never keeps them past the call). */
%module capi

%insert(cgo_comment_typedefs) %{
#cgo pkg-config: memtx
%}

/* A slice of GOTYPE for the argument pair (CTYPE PTR, size_t LEN): its first element and its length. */
%define MEMTX_GO_SLICE(CTYPE, GOTYPE, PTR, LEN)
%typemap(gotype) (CTYPE PTR, size_t LEN) "[]GOTYPE"
%typemap(in) (CTYPE PTR, size_t LEN) %{
  $1 = ($1_ltype)$input.array;
  $2 = (size_t)$input.len;
%}
%enddef

MEMTX_GO_SLICE(const int64_t*, int64, tokens, n)           /* session_feed(_loss), options_set_stop_tokens */
MEMTX_GO_SLICE(const int64_t*, int64, tokens, count)       /* detokenize */
MEMTX_GO_SLICE(const int64_t*, int64, prompt, prompt_len)  /* generate */
MEMTX_GO_SLICE(int64_t*, int64, out_tokens, capacity)      /* tokenize, generate, session_generate */
MEMTX_GO_SLICE(float*, float32, out_logits, out_capacity)  /* forward */
MEMTX_GO_SLICE(float*, float32, out_last_logits, capacity) /* session_feed(_text); a nil slice is NULL */
MEMTX_GO_SLICE(char*, byte, out_bytes, capacity)           /* text_slot_copy: the text of a _n call */

/* memtx_forward's tokens (batch * seq_len of them; the Go package checks the length). */
%typemap(gotype) const int64_t* tokens "[]int64"
%typemap(in) const int64_t* tokens %{ $1 = ($1_ltype)$input.array; %}

/* Text slots (char**) are opaque addresses (uintptr) rather than Go's default *string, which Go would take
 * for a pointer to a Go string. */
%typemap(gotype) char** "uintptr"
%typemap(in) char** %{ $1 = ($1_ltype)$input; %}
%typemap(out) char** %{ $result = $1; %}

%include "memtx.i"
