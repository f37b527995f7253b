// cref.go: calls into libmemtx made directly with cgo, not through the SWIG-generated package, for the
// binding's tests to compare against (the C API's own answer on the same model handle).

// Package cref calls the C API directly (cgo), bypassing the SWIG wrappers; it is used by tests only.
package cref

/*
#cgo pkg-config: memtx
#include <stdlib.h>
#include <string.h>
#include "memtx.h"

// forward runs memtx_forward on C copies of the tokens; the status's code and message go to *code / *message
// (the message malloc'ed, NULL on success).
static int forward(uintptr_t model, const int64_t* tokens, int64_t batch, int64_t seq_len, float* out, size_t cap,
                   char** message) {
  memtx_status* st = memtx_forward((memtx_model*)model, tokens, batch, seq_len, out, cap);
  int code = (int)memtx_status_get_code(st);
  *message = st ? strdup(memtx_status_message(st)) : NULL;
  memtx_status_free(st);
  return code;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Forward runs memtx_forward on the model whose memtx_model* is model and returns the logits
// (batch * seqLen * vocab floats).
func Forward(model uintptr, tokens []int64, batch, seqLen, vocab int) ([]float32, error) {
	n := batch * seqLen
	if len(tokens) != n || n == 0 {
		return nil, fmt.Errorf("cref.Forward: %d tokens for %d x %d", len(tokens), batch, seqLen)
	}
	ctokens := (*C.int64_t)(C.malloc(C.size_t(n) * 8))
	defer C.free(unsafe.Pointer(ctokens))
	copy(unsafe.Slice((*int64)(unsafe.Pointer(ctokens)), n), tokens)
	total := n * vocab
	clogits := (*C.float)(C.malloc(C.size_t(total) * 4))
	defer C.free(unsafe.Pointer(clogits))
	var message *C.char
	code := C.forward(C.uintptr_t(model), ctokens, C.int64_t(batch), C.int64_t(seqLen), clogits, C.size_t(total), &message)
	if code != 0 {
		defer C.free(unsafe.Pointer(message))
		return nil, fmt.Errorf("memtx_forward: code %d: %s", int(code), C.GoString(message))
	}
	out := make([]float32, total)
	copy(out, unsafe.Slice((*float32)(unsafe.Pointer(clogits)), total))
	return out, nil
}
