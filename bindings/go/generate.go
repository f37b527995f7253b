// generate.go: GenerateOptions and Model.Generate / GenerateText (memtx_generate, memtx_generate_text_n).

package memtx

import (
	"time"

	"memtx/internal/capi"
)

// GenerateOptions are the sampling settings of generation (memtx_generate_options). Start from
// DefaultGenerateOptions(); in a literal, the zero values mean greedy decoding without a nucleus filter,
// without a repetition penalty, min-p filter or time limit, and without stopping at end-of-sequence. The filters
// apply in the order of memtx.h: repetition penalty, temperature, top-k, top-p, min-p. The per-token callback
// of the C API (on_token) is not available from Go.
type GenerateOptions struct {
	MaxNewTokens      int64         // at most this many new tokens
	Temperature       float32       // 0 = greedy (argmax)
	TopK              int64         // 0 = no top-k filter
	TopP              float32       // 1 (or 0) = no nucleus filter
	MinP              float32       // 0 = no min-p filter; drops tokens below MinP times the top probability
	RepetitionPenalty float32       // 1 (or 0) = off; > 1 discourages ids already in the prompt or the output
	MaxTime           time.Duration // 0 = no limit; generation stops (keeping its tokens) once it has run this long
	Seed              uint64        // the same seed gives the same tokens
	StopTokens        []int64       // generation ends when one of these is produced (it is not returned)
	StopAtEOS         bool          // the tokenizer's end-of-sequence token also stops
}

// DefaultGenerateOptions returns the library's defaults (64 new tokens, temperature 1, no filters, no
// repetition penalty, no time limit, seed 0, stop at end-of-sequence).
func DefaultGenerateOptions() GenerateOptions {
	o := capi.Memtx_generate_options_new()
	if o.Swigcptr() == 0 {
		return GenerateOptions{MaxNewTokens: 64, Temperature: 1, TopP: 1, RepetitionPenalty: 1, StopAtEOS: true}
	}
	defer capi.Memtx_generate_options_free(o)
	return GenerateOptions{MaxNewTokens: o.GetMax_new_tokens(), Temperature: o.GetTemperature(), TopK: o.GetTop_k(),
		TopP: o.GetTop_p(), MinP: o.GetMin_p(), RepetitionPenalty: o.GetRepetition_penalty(),
		MaxTime: time.Duration(o.GetMax_time() * float64(time.Second)), Seed: o.GetSeed(),
		StopAtEOS: o.GetStop_at_eos() != 0}
}

// withOptions runs f with C options made from opts (nil: the defaults) and the output capacity they need.
func withOptions(opts *GenerateOptions, f func(o capi.Memtx_generate_options, capacity int) error) error {
	g := DefaultGenerateOptions()
	if opts != nil {
		g = *opts
	}
	if g.MaxNewTokens < 0 {
		return errorf(CodeInvalidArgument, "MaxNewTokens is %d (must be >= 0)", g.MaxNewTokens)
	}
	o := capi.Memtx_generate_options_new()
	if o.Swigcptr() == 0 {
		return errNoMemory("generation options")
	}
	defer capi.Memtx_generate_options_free(o)
	o.SetMax_new_tokens(g.MaxNewTokens)
	o.SetTemperature(g.Temperature)
	o.SetTop_k(g.TopK)
	if g.TopP == 0 {
		g.TopP = 1
	}
	o.SetTop_p(g.TopP)
	o.SetMin_p(g.MinP)
	if g.RepetitionPenalty == 0 {
		g.RepetitionPenalty = 1
	}
	o.SetRepetition_penalty(g.RepetitionPenalty)
	o.SetMax_time(g.MaxTime.Seconds()) // a negative one is refused by the library, naming max_time
	o.SetSeed(g.Seed)
	o.SetStop_at_eos(boolInt(g.StopAtEOS))
	if capi.Memtx_generate_options_set_stop_tokens(o, g.StopTokens) != 0 {
		return errNoMemory("stop tokens")
	}
	capacity := int(g.MaxNewTokens)
	if capacity < 1 {
		capacity = 1
	}
	return f(o, capacity)
}

// Generate continues prompt (at least one id) and returns the new tokens (not the prompt, not the stop
// token). opts nil means DefaultGenerateOptions().
func (m *Model) Generate(prompt []int64, opts *GenerateOptions) ([]int64, error) {
	var out []int64
	err := withOptions(opts, func(o capi.Memtx_generate_options, capacity int) error {
		return m.with(func(h capi.Struct_SS_memtx_model) error {
			buf := make([]int64, capacity)
			count := []uint64{0}
			if err := takeStatus(capi.Memtx_generate(h, prompt, o, buf, count)); err != nil {
				return err
			}
			out = buf[:count[0]]
			return nil
		})
	})
	return out, err
}

// GenerateText tokenizes prompt with the model's tokenizer and returns the continuation's text.
func (m *Model) GenerateText(prompt string, opts *GenerateOptions) (string, error) {
	var text string
	err := withOptions(opts, func(o capi.Memtx_generate_options, _ int) error {
		return m.with(func(h capi.Struct_SS_memtx_model) (err error) {
			text, err = callTextN(func(slot uintptr, length []uint64) capi.Struct_SS_memtx_status {
				return capi.Memtx_generate_text_n(h, prompt, o, slot, length)
			})
			return err
		})
	})
	return text, err
}
