// close_test.go: every handle closes twice without harm, calls on closed (or nil) handles return errors
// instead of crashing, and closing a context or model closes what was made from it.

package memtx

import (
	"runtime"
	"testing"
	"time"
)

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	ctx, err := NewContext(&ContextOptions{LoadDefaultPlugins: true, LogLevel: 0})
	if err != nil {
		t.Fatalf("NewContext: %v", err)
	}
	cfg, err := ctx.ParseConfig(tinyYAML)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	m, err := ctx.NewModel(cfg)
	if err != nil {
		t.Fatalf("NewModel: %v", err)
	}
	s, err := m.NewSession()
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	tok := m.Tokenizer()

	// A session closed by itself, twice.
	s.Close()
	s.Close()
	_, err = s.Feed([]int64{1})
	requireCode(t, err, CodeInvalidArgument)
	if s.Position() != 0 || s.StateBytes() != 0 {
		t.Fatal("a closed session reports a stream")
	}

	// A model closed with an open session and tokenizer: both then fail.
	m2, err := ctx.NewModel(cfg)
	if err != nil {
		t.Fatalf("NewModel: %v", err)
	}
	s2, err := m2.NewSession()
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	if _, err := s2.Feed([]int64{1, 2}); err != nil {
		t.Fatalf("Feed: %v", err)
	}
	tok2 := m2.Tokenizer()
	m2.Close()
	m2.Close()
	_, err = s2.Feed([]int64{1})
	requireCode(t, err, CodeInvalidArgument)
	_, err = tok2.Tokenize("x")
	requireCode(t, err, CodeInvalidArgument)
	s2.Close()
	m2.Cancel()

	// The context closes the model and config made from it.
	ctx.Close()
	ctx.Close()
	_, err = m.Forward(tokenGrid(), 2, 8)
	requireCode(t, err, CodeInvalidArgument)
	_, err = tok.Tokenize("x")
	requireCode(t, err, CodeInvalidArgument)
	requireCode(t, cfg.Set("model.hidden_dim", "64"), CodeInvalidArgument)
	_, err = ctx.NewConfig()
	requireCode(t, err, CodeInvalidArgument)
	_, err = ctx.Plugins()
	requireCode(t, err, CodeInvalidArgument)
	_, err = m.NewSession()
	requireCode(t, err, CodeInvalidArgument)
	for _, c := range []interface{ Close() error }{m, cfg, tok, s, ctx} {
		if err := c.Close(); err != nil {
			t.Fatalf("Close after the context: %v", err)
		}
	}
}

func TestNilHandles(t *testing.T) {
	var (
		ctx *Context
		cfg *Config
		m   *Model
		s   *Session
		tok *Tokenizer
	)
	_, err := ctx.Plugins()
	requireCode(t, err, CodeInvalidArgument)
	requireCode(t, cfg.Validate(), CodeInvalidArgument)
	_, err = m.Forward(tokenGrid(), 2, 8)
	requireCode(t, err, CodeInvalidArgument)
	_, err = s.Feed(nil)
	requireCode(t, err, CodeInvalidArgument)
	_, err = tok.Tokenize("x")
	requireCode(t, err, CodeInvalidArgument)
	m.Cancel()
	for _, c := range []interface{ Close() error }{ctx, cfg, m, s, tok} {
		if err := c.Close(); err != nil {
			t.Fatalf("Close of nil: %v", err)
		}
	}
}

// Forgotten handles are freed by their finalizers without disturbing the context they came from.
func TestFinalizersAreASafetyNet(t *testing.T) {
	children := func() int {
		shared.cmu.Lock()
		defer shared.cmu.Unlock()
		return len(shared.children)
	}
	before := children()
	func() { // the handles made here become unreachable when it returns
		for i := 0; i < 3; i++ {
			cfg, err := shared.ParseConfig(tinyYAML)
			if err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			m, err := shared.NewModel(cfg)
			if err != nil {
				t.Fatalf("NewModel: %v", err)
			}
			if _, err := m.NewSession(); err != nil {
				t.Fatalf("NewSession: %v", err)
			}
		}
	}()
	if children() != before+6 {
		t.Fatalf("%d children registered, want %d", children(), before+6)
	}
	// Finalizers run on their own goroutine, a session's before its model's (one GC cycle each).
	deadline := time.Now().Add(5 * time.Second)
	for children() > before && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := children(); n != before {
		t.Fatalf("%d children left after garbage collection, want %d", n, before)
	}
	if _, err := shared.Plugins(); err != nil {
		t.Fatalf("context unusable after finalizers: %v", err)
	}
}
