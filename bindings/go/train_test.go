// train_test.go: training through the binding: progress delivered as Go values, the trained weights seen
// identically (bit for bit) by Forward, by the C API called directly, after Save/LoadModel and after
// SaveWeights/LoadWeights; cancellation from another goroutine through a context.Context and Model.Cancel.

package memtx

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"memtx/internal/cref"
)

func TestTrainThenForwardMatchesCAndSavedModels(t *testing.T) {
	cfg, m := newTinyModel(t)
	tokens := tokenGrid()
	before, err := m.Forward(tokens, 2, 8)
	if err != nil {
		t.Fatalf("Forward: %v", err)
	}
	if before.Vocab != 259 || len(before.Data) != 2*8*259 {
		t.Fatalf("logits shape %d x %d x %d, %d floats", before.Batch, before.SeqLen, before.Vocab, len(before.Data))
	}

	var got []Progress
	if err := m.Train(context.Background(), cfg, func(p Progress) { got = append(got, p) }); err != nil {
		t.Fatalf("Train: %v", err)
	}
	if len(got) == 0 {
		t.Fatal("no progress delivered")
	}
	last := got[len(got)-1]
	if last.Event != EventDone || last.Step != 4 || last.TotalSteps != 4 {
		t.Fatalf("last progress %+v, want event done at step 4 of 4", last)
	}
	for i, p := range got {
		if i > 0 && p.Step < got[i-1].Step {
			t.Fatalf("steps go backwards: %d after %d", p.Step, got[i-1].Step)
		}
		if p.Step > 0 && (!(p.Loss > 0) || math.IsInf(p.Loss, 0) || p.TokensSeen <= 0) {
			t.Fatalf("progress %+v: want a finite positive loss and tokens seen", p)
		}
	}
	report, err := m.LastTrainReport()
	if err != nil {
		t.Fatalf("LastTrainReport: %v", err)
	}
	if report.Status != "completed" || report.Steps != 4 || report.FinalModel == "" || report.FinalLoss == nil {
		t.Fatalf("report %+v", report)
	}

	after, err := m.Forward(tokens, 2, 8)
	if err != nil {
		t.Fatalf("Forward after training: %v", err)
	}
	if firstBitDifference(before.Data, after.Data) < 0 {
		t.Fatal("training left the logits unchanged")
	}
	row := after.At(1, 7)
	if len(row) != 259 || math.Float32bits(row[3]) != math.Float32bits(after.Data[(1*8+7)*259+3]) {
		t.Fatal("Logits.At does not index [batch][seq][vocab]")
	}

	// The C API on the same handle, called with cgo directly (not through SWIG).
	direct, err := cref.Forward(m.c.h.Swigcptr(), tokens, 2, 8, 259)
	if err != nil {
		t.Fatalf("memtx_forward: %v", err)
	}
	requireSameBits(t, "Forward vs memtx_forward", after.Data, direct)

	// Save + LoadModel, and the run's final_model.
	dir := filepath.Join(t.TempDir(), "saved")
	if err := m.Save(dir); err != nil {
		t.Fatalf("Save: %v", err)
	}
	for _, d := range []string{dir, report.FinalModel} {
		loaded, err := shared.LoadModel(d)
		if err != nil {
			t.Fatalf("LoadModel(%s): %v", d, err)
		}
		again, err := loaded.Forward(tokens, 2, 8)
		if err != nil {
			t.Fatalf("Forward of %s: %v", d, err)
		}
		requireSameBits(t, "Forward after LoadModel("+d+")", after.Data, again.Data)
		loaded.Close()
	}

	// SaveHF: a Hugging Face folder that imports back to the same logits (within float rounding).
	hfDir := filepath.Join(t.TempDir(), "hf")
	if err := m.SaveHF(hfDir); err != nil {
		t.Fatalf("SaveHF: %v", err)
	}
	imported, err := shared.LoadHFModel(hfDir)
	if err != nil {
		t.Fatalf("LoadHFModel of the export: %v", err)
	}
	fromHF, err := imported.Forward(tokens, 2, 8)
	if err != nil {
		t.Fatalf("Forward of the export: %v", err)
	}
	for i := range fromHF.Data {
		if d := math.Abs(float64(fromHF.Data[i] - after.Data[i])); d > 1e-4 {
			t.Fatalf("logit %d of the exported model differs by %g", i, d)
		}
	}
	imported.Close()
	if err := m.SavePEFT(filepath.Join(t.TempDir(), "adapter"), ""); err == nil {
		t.Fatal("SavePEFT of a model without adapters or base succeeded")
	}

	// SaveWeights into a fresh model of the same config.
	weights := filepath.Join(t.TempDir(), "w.safetensors")
	if err := m.SaveWeights(weights); err != nil {
		t.Fatalf("SaveWeights: %v", err)
	}
	fresh, err := shared.NewModel(cfg)
	if err != nil {
		t.Fatalf("NewModel: %v", err)
	}
	defer fresh.Close()
	if err := fresh.LoadWeights(weights); err != nil {
		t.Fatalf("LoadWeights: %v", err)
	}
	again, err := fresh.Forward(tokens, 2, 8)
	if err != nil {
		t.Fatalf("Forward after LoadWeights: %v", err)
	}
	requireSameBits(t, "Forward after LoadWeights", after.Data, again.Data)
	requireCode(t, fresh.LoadWeights(filepath.Join(t.TempDir(), "missing.safetensors")), CodeNotFound)
}

// longRun makes a model whose training would take hours, so that only cancellation ends it.
func longRun(t *testing.T) (*Config, *Model) {
	cfg, m := newTinyModel(t)
	if err := cfg.Set("training.max_steps", "1000000"); err != nil {
		t.Fatalf("Set max_steps: %v", err)
	}
	return cfg, m
}

func TestTrainCancelledByContextFromAnotherGoroutine(t *testing.T) {
	cfg, m := longRun(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	firstStep := make(chan struct{})
	var once sync.Once
	go func() {
		<-firstStep
		cancel()
	}()
	start := time.Now()
	var steps int64
	err := m.Train(ctx, cfg, func(p Progress) {
		steps = p.Step
		if p.Step >= 1 {
			once.Do(func() { close(firstStep) })
		}
	})
	e := requireCode(t, err, CodeCancelled)
	if e.Code.String() != "CANCELLED" {
		t.Fatalf("Code.String() = %q", e.Code.String())
	}
	if elapsed := time.Since(start); elapsed > 60*time.Second {
		t.Fatalf("cancellation took %v", elapsed)
	}
	report, err := m.LastTrainReport()
	if err != nil {
		t.Fatalf("LastTrainReport: %v", err)
	}
	if report.Status != "cancelled" || report.Steps < 1 || report.Steps >= 1000000 || report.LastCheckpoint == "" {
		t.Fatalf("report after cancel %+v (last progress step %d)", report, steps)
	}
	if _, err := os.Stat(report.LastCheckpoint); err != nil {
		t.Fatalf("checkpoint written on cancel: %v", err)
	}
}

func TestTrainCancelledByModelCancel(t *testing.T) {
	cfg, m := longRun(t)
	firstStep := make(chan struct{})
	var once sync.Once
	go func() {
		<-firstStep
		m.Cancel()
	}()
	err := m.Train(context.Background(), cfg, func(p Progress) {
		if p.Step >= 1 {
			once.Do(func() { close(firstStep) })
		}
	})
	requireCode(t, err, CodeCancelled)
}

func TestTrainWithDoneContextDoesNotStart(t *testing.T) {
	cfg, m := newTinyModel(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	requireCode(t, m.Train(ctx, cfg, func(Progress) { called = true }), CodeCancelled)
	if called {
		t.Fatal("progress delivered for a run that never started")
	}
}
