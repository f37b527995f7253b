// errors.go: the status codes of the C API as the Go type Code and every failing status as an *Error.

package memtx

import (
	"errors"
	"fmt"

	"memtx/internal/capi"
)

// Code is a memtx status code (memtx_status_code); the numbers are fixed forever.
type Code int

// The status codes of include/memtx.h.
const (
	CodeOK              Code = 0
	CodeInvalidArgument Code = 1
	CodeNotFound        Code = 2
	CodeIO              Code = 3
	CodeConfig          Code = 4
	CodePlugin          Code = 5
	CodeABIMismatch     Code = 6
	CodeDuplicate       Code = 7
	CodeTorch           Code = 8
	CodeOutOfMemory     Code = 9
	CodeCancelled       Code = 10
	CodeInternal        Code = 11
	CodeBusy            Code = 12 // the model is training on another goroutine; the call changed nothing
)

// String gives the code's name as the library spells it (memtx_status_code_name): "CONFIG", "CANCELLED", ...
func (c Code) String() string {
	return capi.Memtx_status_code_name(capi.Enum_SS_memtx_status_code(c))
}

// Error is a failure reported by libmemtx (or by this package, with the same codes).
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("memtx: %s: %s", e.Code, e.Message) }

// CodeOf returns the Code of err: CodeOK for nil, the Code of an *Error in err's chain, else CodeInternal.
func CodeOf(err error) Code {
	if err == nil {
		return CodeOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// takeStatus turns a memtx_status* into an error (nil for success) and frees the status.
func takeStatus(st capi.Struct_SS_memtx_status) error {
	if st == nil || st.Swigcptr() == 0 {
		return nil
	}
	defer capi.Memtx_status_free(st)
	return &Error{Code: Code(capi.Memtx_status_get_code(st)), Message: capi.Memtx_status_message(st)}
}

func errorf(code Code, format string, args ...interface{}) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// errClosed is what a call on a closed (or nil) handle returns.
func errClosed(what string) error { return errorf(CodeInvalidArgument, "%s is closed", what) }

func errNoMemory(what string) error { return errorf(CodeOutOfMemory, "cannot allocate %s", what) }
