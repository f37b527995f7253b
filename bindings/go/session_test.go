// session_test.go: a Session fed in pieces gives Forward's logits; generation, loss, reset, position, state
// size and the errors of bad ids and an empty stream.

package memtx

import (
	"math"
	"reflect"
	"testing"
)

func TestSession(t *testing.T) {
	_, m := newTinyModel(t)
	ids, err := m.Tokenizer().Tokenize("Key-value pairs: ab=12. Query: ab. Value:")
	if err != nil {
		t.Fatalf("Tokenize: %v", err)
	}
	n := len(ids)
	full, err := m.Forward(ids, 1, n)
	if err != nil {
		t.Fatalf("Forward: %v", err)
	}
	s, err := m.NewSession()
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	defer s.Close()

	if logits, err := s.Feed(nil); err != nil || logits != nil || s.Position() != 0 {
		t.Fatalf("Feed(nil) on an empty stream: %v, %v, position %d", logits, err, s.Position())
	}
	_, err = s.Generate(nil)
	requireCode(t, err, CodeInvalidArgument)

	first, err := s.Feed(ids[:5])
	if err != nil {
		t.Fatalf("Feed: %v", err)
	}
	last, err := s.Feed(ids[5:])
	if err != nil {
		t.Fatalf("Feed: %v", err)
	}
	if s.Position() != int64(n) {
		t.Fatalf("Position = %d, want %d", s.Position(), n)
	}
	requireClose(t, "logits after 5 tokens", first, full.At(0, 4))
	requireClose(t, "logits after the stream", last, full.At(0, n-1))
	if s.StateBytes() <= 0 {
		t.Fatal("StateBytes = 0 on a fed stream")
	}

	_, err = s.Feed([]int64{1, 999})
	requireCode(t, err, CodeInvalidArgument)
	if s.Position() != int64(n) {
		t.Fatalf("a refused feed moved the stream to %d", s.Position())
	}

	greedy := GenerateOptions{MaxNewTokens: 4} // a literal's zero values: greedy, no filter, no EOS stop
	gen, err := s.Generate(&greedy)
	if err != nil || len(gen) != 4 {
		t.Fatalf("session Generate: %v, %v", gen, err)
	}
	if want, _ := m.Generate(ids, &greedy); !reflect.DeepEqual(gen, want) {
		t.Fatalf("session Generate = %v, Model.Generate = %v", gen, want)
	}
	if s.Position() != int64(n+4) {
		t.Fatalf("Position after generating = %d, want %d", s.Position(), n+4)
	}
	if _, err := s.GenerateText(&greedy); err != nil || s.Position() <= int64(n+4) {
		t.Fatalf("GenerateText: %v, position %d", err, s.Position())
	}

	if err := s.Reset(); err != nil || s.Position() != 0 {
		t.Fatalf("Reset: %v, position %d", err, s.Position())
	}
	sum, predicted, err := s.FeedLoss(ids)
	if err != nil || predicted != n-1 || !(sum > 0) || math.IsInf(sum, 0) {
		t.Fatalf("FeedLoss = %v over %d (%v), want %d predicted", sum, predicted, err, n-1)
	}
	s.Reset()
	if logits, err := s.FeedText("abc"); err != nil || len(logits) != 259 || s.Position() != 3 {
		t.Fatalf("FeedText: %d logits, %v, position %d", len(logits), err, s.Position())
	}
}

// requireClose: streamed and whole-sequence logits agree to float rounding.
func requireClose(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d vs %d floats", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-4 {
			t.Fatalf("%s: logit %d is %v, want %v", what, i, got[i], want[i])
		}
	}
}
