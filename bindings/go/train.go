// train.go: Model.Train: memtx_train on its own goroutine (OS thread locked), progress polled with
// memtx_train_poll and handed to a Go function, cancellation through a context.Context (memtx_cancel).

package memtx

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"time"

	"memtx/internal/capi"
)

// Event says what a Progress reports.
type Event int

// The events of training (memtx_train_event).
const (
	EventStep       Event = 0 // an optimizer step finished
	EventEval       Event = 1 // an evaluation finished (EvalLoss is new)
	EventCheckpoint Event = 2 // a checkpoint was written
	EventDone       Event = 3 // training ended (completed, early-stopped, cancelled)
)

func (e Event) String() string {
	switch e {
	case EventStep:
		return "step"
	case EventEval:
		return "eval"
	case EventCheckpoint:
		return "checkpoint"
	case EventDone:
		return "done"
	}
	return fmt.Sprintf("event(%d)", int(e))
}

// Progress is the state of a training run (memtx_train_progress).
type Progress struct {
	Event           Event
	Step            int64 // optimizer steps completed
	TotalSteps      int64
	Epoch           int64   // passes over the training data completed
	TokensSeen      int64   // input tokens trained on so far
	Loss            float64 // the last step's training loss
	LearningRate    float64
	GradNorm        float64 // before clipping
	TokensPerSecond float64
	ETASeconds      float64 // -1 when unknown
	EvalLoss        float64 // NaN before the first evaluation
	ElapsedSeconds  float64
}

// TrainPollInterval is how often Train reads the progress of a running training.
var TrainPollInterval = 20 * time.Millisecond

func progressOf(p capi.Memtx_train_progress) Progress {
	return Progress{Event: Event(p.GetEvent()), Step: p.GetStep(), TotalSteps: p.GetTotal_steps(), Epoch: p.GetEpoch(),
		TokensSeen: p.GetTokens_seen(), Loss: p.GetLoss(), LearningRate: p.GetLearning_rate(),
		GradNorm: p.GetGrad_norm(), TokensPerSecond: p.GetTokens_per_second(), ETASeconds: p.GetEta_seconds(),
		EvalLoss: p.GetEval_loss(), ElapsedSeconds: p.GetElapsed_seconds()}
}

// sameState: two polls that show the same moment of a run.
func sameState(a, b Progress) bool {
	return a.Event == b.Event && a.Step == b.Step && a.ElapsedSeconds == b.ElapsedSeconds
}

// Train trains the model in place with cfg's training section (cfg nil: the model's own config), writing
// checkpoints, metrics.jsonl and final_model/ under training.output_dir. progress (may be nil) is called on
// the calling goroutine with the run's latest state whenever it changed since the last poll (every
// TrainPollInterval), and with the final state (EventDone) before Train returns; states between two polls
// may be skipped. When ctx is cancelled (or Model.Cancel is called) training stops after writing a
// checkpoint and Train returns an *Error with CodeCancelled.
func (m *Model) Train(ctx context.Context, cfg *Config, progress func(Progress)) error {
	if ctx == nil {
		ctx = context.Background()
	}
	return m.withConfig(cfg, func(h capi.Struct_SS_memtx_model, ch capi.Struct_SS_memtx_config) error {
		if err := ctx.Err(); err != nil {
			return errorf(CodeCancelled, "training not started: %v", err)
		}
		cp := capi.NewMemtx_train_progress()
		if cp.Swigcptr() == 0 {
			return errNoMemory("a progress record")
		}
		defer capi.DeleteMemtx_train_progress(cp)
		// poll returns the run's state; the model handle stays valid: this goroutine holds the model's lock
		// until training has returned.
		poll := func() (Progress, bool) {
			if takeStatus(capi.Memtx_train_poll(h, cp)) != nil {
				return Progress{}, false
			}
			return progressOf(cp), true
		}
		last, _ := poll() // the previous run's state, not to be reported again
		fresh := Progress{Event: EventStep}
		deliver := func() {
			p, ok := poll()
			if !ok || sameState(p, last) || sameState(p, fresh) {
				return
			}
			last = p
			if progress != nil {
				progress(p)
			}
		}

		done := make(chan capi.Struct_SS_memtx_status, 1)
		go func() {
			runtime.LockOSThread() // one OS thread for the whole run (LibTorch keeps per-thread state)
			defer runtime.UnlockOSThread()
			done <- capi.Memtx_train(h, ch)
		}()
		ticker := time.NewTicker(TrainPollInterval)
		defer ticker.Stop()
		cancelled := ctx.Done()
		for {
			select {
			case st := <-done:
				deliver()
				return takeStatus(st)
			case <-cancelled:
				capi.Memtx_cancel(h)
				cancelled = nil // from now on the ticks repeat it (a run that had not started yet clears it)
			case <-ticker.C:
				if ctx.Err() != nil {
					capi.Memtx_cancel(h)
				}
				deliver()
			}
		}
	})
}

// TrainReport is the summary of the model's last Train.
type TrainReport struct {
	Status          string   `json:"status"` // completed, early_stopped, cancelled, failed
	Steps           int64    `json:"steps"`
	Epochs          int64    `json:"epochs"`
	FinalLoss       *float64 `json:"final_loss"`     // nil when no step finished
	BestEvalLoss    *float64 `json:"best_eval_loss"` // nil without evaluation
	BestCheckpoint  string   `json:"best_checkpoint"`
	LastCheckpoint  string   `json:"last_checkpoint"`
	FinalModel      string   `json:"final_model"`
	MetricsFile     string   `json:"metrics_file"`
	Device          string   `json:"device"`
	Precision       string   `json:"precision"`
	TokensPerSecond float64  `json:"tokens_per_second"`
	Seconds         float64  `json:"seconds"`
	SkippedSteps    int64    `json:"skipped_steps"`
}

// LastTrainReport returns the summary of the model's last Train.
func (m *Model) LastTrainReport() (*TrainReport, error) {
	var text string
	err := m.with(func(h capi.Struct_SS_memtx_model) (err error) {
		text, err = callText(func(slot uintptr) capi.Struct_SS_memtx_status { return capi.Memtx_train_report(h, slot) })
		return err
	})
	if err != nil {
		return nil, err
	}
	var r TrainReport
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		return nil, errorf(CodeInternal, "train report is not the documented JSON: %v (%s)", err, text)
	}
	return &r, nil
}
