// helpers_test.go: what the binding's tests share: one Context for the whole run, a tiny model config (2 x 32,
// byte tokenizer, built-in associative-recall data), and assertions on errors and logits.

package memtx

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// tinyYAML trains 4 steps of batch 2 x 32 tokens in about a second on a CPU; output_dir is set per test.
const tinyYAML = `
model:
  hidden_dim: 32
  num_heads: 4
  num_layers: 2
  intermediate_dim: 64
  vocab_size: 259
  max_seq_len: 64
  tokenizer: byte
  device: cpu
  dtype: float32
  seed: 7
attention:
  attention_variant: causal
memory:
  vanilla_mode: true
training:
  training_mode: pretraining
  dataset_name: "synthetic:associative_recall?pairs=2&examples=64"
  eval_split: test
  eval_fraction: 0.25
  eval_max_batches: 2
  max_length: 32
  batch_size: 2
  max_steps: 4
  warmup_steps: 1
  base_model_lr: 1e-3
  mixed_precision: "no"
  logging_steps: 1
  eval_steps: 1000
  save_steps: 1000
`

var shared *Context // made by TestMain

func TestMain(m *testing.M) {
	var err error
	shared, err = NewContext(nil)
	if err != nil {
		os.Stderr.WriteString("cannot make a context: " + err.Error() + "\n")
		os.Exit(1)
	}
	code := m.Run()
	shared.Close()
	os.Exit(code)
}

// newTinyModel parses tinyYAML with output_dir in a temporary folder and builds its model; both are closed
// when the test ends.
func newTinyModel(t *testing.T) (*Config, *Model) {
	t.Helper()
	cfg, err := shared.ParseConfig(tinyYAML)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	t.Cleanup(func() { cfg.Close() })
	if err := cfg.Set("training.output_dir", filepath.Join(t.TempDir(), "run")); err != nil {
		t.Fatalf("Set output_dir: %v", err)
	}
	m, err := shared.NewModel(cfg)
	if err != nil {
		t.Fatalf("NewModel: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return cfg, m
}

// requireCode fails unless err is an *Error with code.
func requireCode(t *testing.T, err error, code Code) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want an *Error with code %s, got %v", code, err)
	}
	if e.Code != code {
		t.Fatalf("want code %s, got %s (%s)", code, e.Code, e.Message)
	}
	return e
}

// firstBitDifference returns the index of the first float whose bits differ (-1 when a and b are identical).
func firstBitDifference(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

func requireSameBits(t *testing.T, what string, a, b []float32) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d vs %d floats", what, len(a), len(b))
	}
	if i := firstBitDifference(a, b); i >= 0 {
		t.Fatalf("%s: float %d differs: %v vs %v", what, i, a[i], b[i])
	}
}

// tokenGrid is a batch of 2 rows x 8 ids inside the byte vocabulary.
func tokenGrid() []int64 {
	return []int64{72, 101, 108, 108, 111, 44, 32, 119, 75, 101, 121, 61, 49, 50, 51, 46}
}
