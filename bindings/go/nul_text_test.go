// nul_text_test.go: text holding NUL bytes crosses the binding whole (the _n calls): Tokenize, Detokenize and
// Session.FeedText read every byte (the byte tokenizer: one id per byte).

package memtx

import (
	"reflect"
	"testing"
)

func TestTextWithNulBytes(t *testing.T) {
	_, m := newTinyModel(t)
	tok := m.Tokenizer()
	ids, err := tok.Tokenize("ab\x00cd")
	if want := []int64{97, 98, 0, 99, 100}; err != nil || !reflect.DeepEqual(ids, want) {
		t.Fatalf("Tokenize = %v, %v, want %v", ids, err, want)
	}
	text, err := tok.Detokenize([]int64{97, 0, 98})
	if err != nil || text != "a\x00b" {
		t.Fatalf("Detokenize = %q, %v, want \"a\\x00b\"", text, err)
	}
	s, err := m.NewSession()
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	defer s.Close()
	if _, err := s.FeedText("ab\x00cd"); err != nil || s.Position() != 5 {
		t.Fatalf("FeedText: %v, position %d, want 5", err, s.Position())
	}
}
