// evaluate.go: Model.Evaluate (memtx_evaluate) with its JSON result parsed into EvalResult.

package memtx

import (
	"encoding/json"

	"memtx/internal/capi"
)

// EvalResult is the mean next-token loss, perplexity and token accuracy (the share of targets that are the
// model's top choice) over a config's evaluation data.
type EvalResult struct {
	Split      string  `json:"split"`
	Loss       float64 `json:"loss"`
	Perplexity float64 `json:"perplexity"`
	Accuracy   float64 `json:"accuracy"`
	// SequenceAccuracy is the share of ScoredSequences (windows with a counted target) right at every counted
	// target: the exact-match rate of the answers when each window holds one prompt-and-answer example.
	SequenceAccuracy float64 `json:"sequence_accuracy"`
	ScoredSequences  int64   `json:"scored_sequences"`
	Tokens           int64   `json:"tokens"`
	Sequences        int64   `json:"sequences"`
	Batches          int64   `json:"batches"`
	Seconds          float64 `json:"seconds"`
}

// Evaluate measures the model on the evaluation data cfg's training section names (cfg nil: the model's own
// config); NOT_FOUND when the data has no evaluation split. Model.Cancel stops it (CANCELLED).
func (m *Model) Evaluate(cfg *Config) (*EvalResult, error) {
	var text string
	err := m.withConfig(cfg, func(h capi.Struct_SS_memtx_model, ch capi.Struct_SS_memtx_config) (err error) {
		text, err = callText(func(slot uintptr) capi.Struct_SS_memtx_status { return capi.Memtx_evaluate(h, ch, slot) })
		return err
	})
	if err != nil {
		return nil, err
	}
	var r EvalResult
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		return nil, errorf(CodeInternal, "evaluation result is not the documented JSON: %v", err)
	}
	return &r, nil
}
