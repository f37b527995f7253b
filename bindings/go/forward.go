// forward.go: Model.Forward, token ids [batch, seq_len] to logits [batch, seq_len, vocab] (memtx_forward).

package memtx

import "memtx/internal/capi"

// Logits holds Batch * SeqLen * Vocab floats, row-major.
type Logits struct {
	Data                 []float32
	Batch, SeqLen, Vocab int
}

// At returns the logits at row b, position t (a slice of Data, Vocab long).
func (l *Logits) At(b, t int) []float32 {
	i := (b*l.SeqLen + t) * l.Vocab
	return l.Data[i : i+l.Vocab]
}

// Forward runs the model on tokens, batch rows of seqLen ids (row-major), and returns the logits.
func (m *Model) Forward(tokens []int64, batch, seqLen int) (*Logits, error) {
	if batch <= 0 || seqLen <= 0 || len(tokens) != batch*seqLen {
		return nil, errorf(CodeInvalidArgument, "Forward: %d tokens for batch %d x seq_len %d", len(tokens), batch, seqLen)
	}
	var out *Logits
	err := m.with(func(h capi.Struct_SS_memtx_model) error {
		vocab := int(capi.Memtx_model_vocab_size(h))
		l := &Logits{Data: make([]float32, batch*seqLen*vocab), Batch: batch, SeqLen: seqLen, Vocab: vocab}
		if err := takeStatus(capi.Memtx_forward(h, tokens, int64(batch), int64(seqLen), l.Data)); err != nil {
			return err
		}
		out = l
		return nil
	})
	return out, err
}
