// tokenizer.go: Tokenizer, the model's tokenizer (memtx_tokenize_n, memtx_detokenize_n: text as bytes with their
// length, so NUL bytes pass whole).

package memtx

import (
	"sync/atomic"

	"memtx/internal/capi"
)

// Tokenizer turns text into the model's token ids and back. It belongs to its model: closing either makes it
// return errors.
type Tokenizer struct {
	m      *Model
	closed atomic.Bool
}

// Tokenizer returns the model's tokenizer (loaded by the library on first use).
func (m *Model) Tokenizer() *Tokenizer { return &Tokenizer{m: m} }

// Close detaches the tokenizer from its model; closing twice is fine.
func (t *Tokenizer) Close() error {
	if t != nil {
		t.closed.Store(true)
	}
	return nil
}

func (t *Tokenizer) model() (*Model, error) {
	if t == nil || t.closed.Load() {
		return nil, errClosed("tokenizer")
	}
	return t.m, nil
}

// Tokenize returns the ids of text; special tokens written in the text become their ids.
func (t *Tokenizer) Tokenize(text string) ([]int64, error) {
	m, err := t.model()
	if err != nil {
		return nil, err
	}
	var ids []int64
	err = m.with(func(h capi.Struct_SS_memtx_model) error {
		count := []uint64{0}
		if err := takeStatus(capi.Memtx_tokenize_n(h, text, nil, count)); err != nil {
			return err
		}
		ids = make([]int64, count[0])
		if len(ids) == 0 {
			return nil
		}
		if err := takeStatus(capi.Memtx_tokenize_n(h, text, ids, count)); err != nil {
			return err
		}
		ids = ids[:count[0]]
		return nil
	})
	return ids, err
}

// Detokenize returns the text of ids (INVALID_ARGUMENT for an id outside the vocabulary).
func (t *Tokenizer) Detokenize(ids []int64) (string, error) {
	m, err := t.model()
	if err != nil {
		return "", err
	}
	var text string
	err = m.with(func(h capi.Struct_SS_memtx_model) (err error) {
		text, err = callTextN(func(slot uintptr, length []uint64) capi.Struct_SS_memtx_status {
			return capi.Memtx_detokenize_n(h, ids, slot, length)
		})
		return err
	})
	return text, err
}
