// infer_test.go: Forward's argument checks, the tokenizer, generation (greedy, seeded sampling, stop tokens,
// text) and evaluation through the binding, with the error codes of bad token ids.

package memtx

import (
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestForwardRejectsBadInput(t *testing.T) {
	_, m := newTinyModel(t)
	bad := tokenGrid()
	bad[5] = 259 // the vocabulary is 0..258
	_, err := m.Forward(bad, 2, 8)
	requireCode(t, err, CodeInvalidArgument)
	_, err = m.Forward(tokenGrid(), 3, 8) // 16 ids are not 3 x 8
	requireCode(t, err, CodeInvalidArgument)
	_, err = m.Forward(nil, 0, 0)
	requireCode(t, err, CodeInvalidArgument)
}

func TestForwardFromManyGoroutines(t *testing.T) {
	_, m := newTinyModel(t)
	want, err := m.Forward(tokenGrid(), 2, 8)
	if err != nil {
		t.Fatalf("Forward: %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := m.Forward(tokenGrid(), 2, 8)
			if err != nil {
				errs <- err.Error()
			} else if firstBitDifference(want.Data, got.Data) >= 0 {
				errs <- "different logits"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func TestTokenizer(t *testing.T) {
	_, m := newTinyModel(t)
	tok := m.Tokenizer()
	ids, err := tok.Tokenize("hi!<|endoftext|>")
	if err != nil {
		t.Fatalf("Tokenize: %v", err)
	}
	if want := []int64{104, 105, 33, 256}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("Tokenize = %v, want %v", ids, want)
	}
	empty, err := tok.Tokenize("")
	if err != nil || len(empty) != 0 {
		t.Fatalf("Tokenize(\"\") = %v, %v", empty, err)
	}
	text, err := tok.Detokenize([]int64{104, 101, 108, 108, 111})
	if err != nil || text != "hello" {
		t.Fatalf("Detokenize = %q, %v", text, err)
	}
	_, err = tok.Detokenize([]int64{104, 259})
	if e := requireCode(t, err, CodeInvalidArgument); !strings.Contains(e.Message, "259") {
		t.Fatalf("message does not name the id: %s", e.Message)
	}
	tok.Close()
	tok.Close()
	_, err = tok.Tokenize("x")
	requireCode(t, err, CodeInvalidArgument)
}

func TestGenerate(t *testing.T) {
	_, m := newTinyModel(t)
	def := DefaultGenerateOptions()
	if def.MaxNewTokens != 64 || def.Temperature != 1 || def.TopK != 0 || def.TopP != 1 || !def.StopAtEOS {
		t.Fatalf("DefaultGenerateOptions = %+v", def)
	}
	prompt := []int64{72, 101, 108, 108}
	greedy := def
	greedy.Temperature = 0
	greedy.MaxNewTokens = 6
	greedy.StopAtEOS = false
	a, err := m.Generate(prompt, &greedy)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	b, err := m.Generate(prompt, &greedy)
	if err != nil || len(a) != 6 || !reflect.DeepEqual(a, b) {
		t.Fatalf("greedy twice: %v and %v (%v)", a, b, err)
	}
	// The greedy first token as a stop token: nothing is returned.
	stop := greedy
	stop.StopTokens = []int64{a[0]}
	none, err := m.Generate(prompt, &stop)
	if err != nil || len(none) != 0 {
		t.Fatalf("stopped at once: %v, %v", none, err)
	}
	// Seeded sampling repeats.
	sample := def
	sample.MaxNewTokens = 8
	sample.StopAtEOS = false
	sample.Seed = 11
	s1, err1 := m.Generate(prompt, &sample)
	s2, err2 := m.Generate(prompt, &sample)
	if err1 != nil || err2 != nil || len(s1) != 8 || !reflect.DeepEqual(s1, s2) {
		t.Fatalf("seeded sampling: %v %v (%v, %v)", s1, s2, err1, err2)
	}
	// Text in, text out: the greedy continuation of the same ids.
	text, err := m.GenerateText("Hell", &greedy)
	if err != nil {
		t.Fatalf("GenerateText: %v", err)
	}
	if want, _ := m.Tokenizer().Detokenize(a); text != want {
		t.Fatalf("GenerateText = %q, want %q", text, want)
	}

	_, err = m.Generate([]int64{72, 300}, &greedy)
	requireCode(t, err, CodeInvalidArgument)
	_, err = m.Generate(nil, &greedy)
	requireCode(t, err, CodeInvalidArgument)
	negative := greedy
	negative.MaxNewTokens = -1
	_, err = m.Generate(prompt, &negative)
	requireCode(t, err, CodeInvalidArgument)
}

func TestEvaluate(t *testing.T) {
	cfg, m := newTinyModel(t)
	r, err := m.Evaluate(nil)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	if r.Split == "" || !(r.Loss > 0) || r.Tokens <= 0 || math.Abs(r.Perplexity-math.Exp(r.Loss)) > 1e-6*r.Perplexity || r.Accuracy < 0 || r.Accuracy > 1 || r.ScoredSequences <= 0 || r.SequenceAccuracy < 0 || r.SequenceAccuracy > 1 {
		t.Fatalf("Evaluate = %+v", r)
	}
	if err := cfg.Set("training.eval_split", "null"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	_, err = m.Evaluate(cfg)
	requireCode(t, err, CodeNotFound)
}

func TestGenerateSamplingOptions(t *testing.T) {
	_, m := newTinyModel(t)
	def := DefaultGenerateOptions()
	if def.MinP != 0 || def.RepetitionPenalty != 1 || def.MaxTime != 0 {
		t.Fatalf("DefaultGenerateOptions = %+v", def)
	}
	prompt := []int64{72, 101, 108, 108}
	// A literal's zero RepetitionPenalty is off: the same tokens as 1.
	greedy := GenerateOptions{MaxNewTokens: 12}
	plain, err := m.Generate(prompt, &greedy)
	if err != nil || len(plain) != 12 {
		t.Fatalf("greedy: %v (%v)", plain, err)
	}
	one := greedy
	one.RepetitionPenalty = 1
	if same, err := m.Generate(prompt, &one); err != nil || !reflect.DeepEqual(same, plain) {
		t.Fatalf("penalty 1: %v vs %v (%v)", same, plain, err)
	}
	// min_p 1 keeps only the most likely token: sampling equals greedy.
	sampled := GenerateOptions{MaxNewTokens: 12, Temperature: 1, MinP: 1, Seed: 9}
	if got, err := m.Generate(prompt, &sampled); err != nil || !reflect.DeepEqual(got, plain) {
		t.Fatalf("min_p 1: %v vs greedy %v (%v)", got, plain, err)
	}
	// A tiny MaxTime stops after the first token.
	timed := GenerateOptions{MaxNewTokens: 200, MaxTime: time.Nanosecond}
	if got, err := m.Generate(prompt, &timed); err != nil || len(got) != 1 {
		t.Fatalf("MaxTime 1ns: %v (%v)", got, err)
	}
	// Bad values are refused naming the option.
	for name, bad := range map[string]GenerateOptions{
		"min_p":              {MaxNewTokens: 2, MinP: 2},
		"repetition_penalty": {MaxNewTokens: 2, RepetitionPenalty: -1},
		"max_time":           {MaxNewTokens: 2, MaxTime: -time.Second},
	} {
		bad := bad
		_, err := m.Generate(prompt, &bad)
		if e := requireCode(t, err, CodeInvalidArgument); !strings.Contains(e.Message, name) {
			t.Fatalf("message does not name %s: %s", name, e.Message)
		}
	}
}
