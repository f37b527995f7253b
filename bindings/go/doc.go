// doc.go: the package documentation of memtx, the Go binding of libmemtx.

// Package memtx is the Go binding of libmemtx, the memory-augmented transformer library (include/memtx.h).
// It is written over a package that SWIG generates from bindings/swig/memtx_go.i (memtx/internal/capi) and
// finds libmemtx through pkg-config (memtx.pc).
//
// Every handle (Context, Config, Model, Session, Tokenizer) has a Close method: it may be called twice, and a
// closed handle returns an *Error instead of crashing. A finalizer closes a handle that was forgotten, but
// only as a safety net: close handles yourself. Closing a Context closes the configs and models made from
// it; closing a Model closes its sessions and tokenizers. A Model and its sessions run one call at a time (calls
// from several goroutines wait for each other); Model.Cancel and a cancelled context.Context stop a running
// Train, Evaluate or Generate from another goroutine.
//
// Every failure of the C API is an *Error carrying its Code and message:
//
//	var e *memtx.Error
//	if errors.As(err, &e) && e.Code == memtx.CodeConfig { ... }
package memtx
