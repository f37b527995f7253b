// session.go: Session, one token stream read piece by piece with its state carried between calls
// (memtx_session_*).

package memtx

import (
	"runtime"

	"memtx/internal/capi"
)

// Session is a stream (batch 1) that its model reads in pieces of any size; the pieces give the same logits
// as one Forward over the whole stream. It belongs to its model: closing the model closes it.
type Session struct {
	c *sessionCore
	m *Model
}

// sessionCore is a session's handle (what its model frees), guarded by the model's locks.
type sessionCore struct {
	h capi.Struct_SS_memtx_session
}

// NewSession starts an empty stream on the model.
func (m *Model) NewSession() (*Session, error) {
	var s *Session
	err := m.with(func(h capi.Struct_SS_memtx_model) error {
		sh, err := newSessionHandle(func(slot capi.Struct_SS_memtx_session) capi.Struct_SS_memtx_status {
			return capi.Memtx_session_create(h, slot)
		})
		if err != nil {
			return err
		}
		s = &Session{c: &sessionCore{h: sh}, m: m}
		m.c.sessions[s.c] = struct{}{}
		runtime.SetFinalizer(s, func(s *Session) { s.Close() })
		return nil
	})
	return s, err
}

// Close frees the session; closing twice (or after its model) is fine.
func (s *Session) Close() error {
	if s == nil {
		return nil
	}
	s.m.with(func(capi.Struct_SS_memtx_model) error {
		if s.c.h != nil {
			capi.Memtx_session_free(s.c.h)
			s.c.h = nil
			delete(s.m.c.sessions, s.c)
		}
		return nil
	})
	runtime.SetFinalizer(s, nil)
	return nil
}

// with runs f on the live session handle, one call at a time with its model's other calls.
func (s *Session) with(f func(h capi.Struct_SS_memtx_session, vocab int) error) error {
	if s == nil {
		return errClosed("session")
	}
	return s.m.with(func(mh capi.Struct_SS_memtx_model) error {
		if s.c.h == nil {
			return errClosed("session")
		}
		return f(s.c.h, int(capi.Memtx_model_vocab_size(mh)))
	})
}

// Feed continues the stream with tokens and returns the logits after the stream's last token (nil while the
// stream is empty). An id outside the vocabulary is INVALID_ARGUMENT and leaves the stream unchanged.
func (s *Session) Feed(tokens []int64) ([]float32, error) {
	var logits []float32
	err := s.with(func(h capi.Struct_SS_memtx_session, vocab int) error {
		if len(tokens) > 0 || capi.Memtx_session_position(h) > 0 {
			logits = make([]float32, vocab)
		}
		return takeStatus(capi.Memtx_session_feed(h, tokens, logits))
	})
	if err != nil {
		return nil, err
	}
	return logits, nil
}

// FeedText continues the stream with text tokenized on its own (no beginning-of-sequence token) and returns
// the logits after the stream's last token.
func (s *Session) FeedText(text string) ([]float32, error) {
	var logits []float32
	err := s.with(func(h capi.Struct_SS_memtx_session, vocab int) error {
		logits = make([]float32, vocab)
		return takeStatus(capi.Memtx_session_feed_text_n(h, text, logits))
	})
	if err != nil {
		return nil, err
	}
	return logits, nil
}

// FeedLoss feeds tokens like Feed and returns the summed next-token loss (nats) of the tokens it predicted
// and their number (every token but the stream's first is predicted).
func (s *Session) FeedLoss(tokens []int64) (lossSum float64, predicted int, err error) {
	sum := []float64{0}
	count := []uint64{0}
	err = s.with(func(h capi.Struct_SS_memtx_session, _ int) error {
		return takeStatus(capi.Memtx_session_feed_loss(h, tokens, sum, count))
	})
	if err != nil {
		return 0, 0, err
	}
	return sum[0], int(count[0]), nil
}

// Generate continues the stream like Model.Generate continues a prompt; the new tokens become part of the
// stream. INVALID_ARGUMENT on an empty stream.
func (s *Session) Generate(opts *GenerateOptions) ([]int64, error) {
	var out []int64
	err := withOptions(opts, func(o capi.Memtx_generate_options, capacity int) error {
		return s.with(func(h capi.Struct_SS_memtx_session, _ int) error {
			buf := make([]int64, capacity)
			count := []uint64{0}
			if err := takeStatus(capi.Memtx_session_generate(h, o, buf, count)); err != nil {
				return err
			}
			out = buf[:count[0]]
			return nil
		})
	})
	return out, err
}

// GenerateText is Generate returning the continuation's text.
func (s *Session) GenerateText(opts *GenerateOptions) (string, error) {
	var text string
	err := withOptions(opts, func(o capi.Memtx_generate_options, _ int) error {
		return s.with(func(h capi.Struct_SS_memtx_session, _ int) (err error) {
			text, err = callTextN(func(slot uintptr, length []uint64) capi.Struct_SS_memtx_status {
				return capi.Memtx_session_generate_text_n(h, o, slot, length)
			})
			return err
		})
	})
	return text, err
}

// Reset empties the stream.
func (s *Session) Reset() error {
	return s.with(func(h capi.Struct_SS_memtx_session, _ int) error { return takeStatus(capi.Memtx_session_reset(h)) })
}

// Position returns the number of tokens in the stream so far (0 once closed).
func (s *Session) Position() int64 {
	var n int64
	s.with(func(h capi.Struct_SS_memtx_session, _ int) error {
		n = capi.Memtx_session_position(h)
		return nil
	})
	return n
}

// StateBytes returns the bytes held by the stream's state tensors (0 once closed).
func (s *Session) StateBytes() int64 {
	var n int64
	s.with(func(h capi.Struct_SS_memtx_session, _ int) error {
		n = capi.Memtx_session_state_bytes(h)
		return nil
	})
	return n
}
