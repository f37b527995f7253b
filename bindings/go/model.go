// model.go: Model (memtx_model): made from a config or loaded from a folder, saved, described, closed; the
// locking that keeps one C call at a time on a model and its sessions.

package memtx

import (
	"encoding/json"
	"runtime"
	"sync"

	"memtx/internal/capi"
)

// Model is a network with its weights and tokenizer. Calls on a model and its sessions run one at a time;
// Cancel may be called at any time from any goroutine.
type Model struct {
	c   *modelCore
	ctx *Context
}

// modelCore is a model's handle, locks and open sessions (what its context closes).
type modelCore struct {
	life     sync.RWMutex // RLock while a call uses h (Cancel and training polls included), Lock to free it
	use      sync.Mutex   // held during every C call on the model or one of its sessions
	h        capi.Struct_SS_memtx_model
	sessions map[*sessionCore]struct{} // guarded by use (or life held for writing)
}

// cancel is memtx_cancel on the live handle.
func (k *modelCore) cancel() {
	k.life.RLock()
	defer k.life.RUnlock()
	if k.h != nil {
		capi.Memtx_cancel(k.h)
	}
}

// close stops a running call, waits for it, frees the sessions and then the model.
func (k *modelCore) close() {
	k.cancel()
	k.life.Lock()
	defer k.life.Unlock()
	if k.h == nil {
		return
	}
	for s := range k.sessions {
		capi.Memtx_session_free(s.h)
		s.h = nil
	}
	k.sessions = nil
	capi.Memtx_model_free(k.h)
	k.h = nil
}

// NewModel builds a model with freshly initialised weights from a validated config.
func (c *Context) NewModel(cfg *Config) (*Model, error) {
	var m *Model
	err := c.with(func(h capi.Struct_SS_memtx_context) error {
		return cfg.with(func(ch capi.Struct_SS_memtx_config) error {
			mh, err := newModelHandle(func(slot capi.Struct_SS_memtx_model) capi.Struct_SS_memtx_status {
				return capi.Memtx_model_create(h, ch, slot)
			})
			if err != nil {
				return err
			}
			m, err = c.adoptModel(mh)
			return err
		})
	})
	return m, err
}

// LoadModel loads a folder written by memtx (Model.Save, a checkpoint, a run's final_model).
func (c *Context) LoadModel(dir string) (*Model, error) {
	return c.loadModel(func(h capi.Struct_SS_memtx_context, slot capi.Struct_SS_memtx_model) capi.Struct_SS_memtx_status {
		return capi.Memtx_model_load(h, dir, slot)
	})
}

// LoadHFModel builds a model from a Hugging Face folder (config.json + safetensors) of a supported architecture.
func (c *Context) LoadHFModel(dir string) (*Model, error) {
	return c.loadModel(func(h capi.Struct_SS_memtx_context, slot capi.Struct_SS_memtx_model) capi.Struct_SS_memtx_status {
		return capi.Memtx_model_load_hf(h, dir, slot)
	})
}

func (c *Context) loadModel(call func(capi.Struct_SS_memtx_context, capi.Struct_SS_memtx_model) capi.Struct_SS_memtx_status) (*Model, error) {
	var m *Model
	err := c.with(func(h capi.Struct_SS_memtx_context) error {
		mh, err := newModelHandle(func(slot capi.Struct_SS_memtx_model) capi.Struct_SS_memtx_status { return call(h, slot) })
		if err != nil {
			return err
		}
		m, err = c.adoptModel(mh)
		return err
	})
	return m, err
}

func (c *Context) adoptModel(h capi.Struct_SS_memtx_model) (*Model, error) {
	m := &Model{c: &modelCore{h: h, sessions: map[*sessionCore]struct{}{}}, ctx: c}
	if !c.adopt(m.c) {
		capi.Memtx_model_free(h)
		return nil, errClosed("context")
	}
	runtime.SetFinalizer(m, func(m *Model) { m.Close() })
	return m, nil
}

// Close stops a running Train, Evaluate or Generate (memtx_cancel), waits for it, closes the model's sessions
// and frees the model. Closing twice is fine.
func (m *Model) Close() error {
	if m == nil {
		return nil
	}
	m.c.close()
	m.ctx.release(m.c)
	runtime.SetFinalizer(m, nil)
	return nil
}

// Cancel asks a running Train, Evaluate, Generate or session generation on this model to stop; safe from any
// goroutine. A call that starts later is not affected.
func (m *Model) Cancel() {
	if m != nil {
		m.c.cancel()
	}
}

// with runs f on the live handle, one call at a time, or returns an error when the model is closed.
func (m *Model) with(f func(h capi.Struct_SS_memtx_model) error) error {
	if m == nil {
		return errClosed("model")
	}
	k := m.c
	k.life.RLock()
	defer k.life.RUnlock()
	if k.h == nil {
		return errClosed("model")
	}
	k.use.Lock()
	defer k.use.Unlock()
	return f(k.h)
}

// withConfig is with, plus the handle of cfg (nil cfg: a nil handle, meaning the model's own config).
func (m *Model) withConfig(cfg *Config, f func(h capi.Struct_SS_memtx_model, ch capi.Struct_SS_memtx_config) error) error {
	return m.with(func(h capi.Struct_SS_memtx_model) error {
		if cfg == nil {
			return f(h, capi.SwigcptrStruct_SS_memtx_config(0))
		}
		return cfg.with(func(ch capi.Struct_SS_memtx_config) error { return f(h, ch) })
	})
}

// VocabSize returns the size of the model's vocabulary (the last dimension of its logits).
func (m *Model) VocabSize() (int, error) {
	var n int64
	err := m.with(func(h capi.Struct_SS_memtx_model) error {
		n = capi.Memtx_model_vocab_size(h)
		return nil
	})
	return int(n), err
}

// Save writes config.yaml and model.safetensors into dir (created when missing).
func (m *Model) Save(dir string) error {
	return m.with(func(h capi.Struct_SS_memtx_model) error { return takeStatus(capi.Memtx_model_save(h, dir)) })
}

// SaveHF writes the model as a Hugging Face folder that transformers loads without custom code
// (memtx_model_save_hf: LoRA adapters folded in); models with no transformers equivalent fail with CodeConfig.
func (m *Model) SaveHF(dir string) error {
	return m.with(func(h capi.Struct_SS_memtx_model) error { return takeStatus(capi.Memtx_model_save_hf(h, dir)) })
}

// SavePEFT writes the LoRA adapters as a PEFT adapter folder; baseDir "" names the model's model.base_model_name
// as the base, else the model without adapters is written there (memtx_model_save_peft).
func (m *Model) SavePEFT(adapterDir, baseDir string) error {
	return m.with(func(h capi.Struct_SS_memtx_model) error {
		return takeStatus(capi.Memtx_model_save_peft(h, adapterDir, baseDir))
	})
}

// SaveWeights writes the weights as one safetensors file.
func (m *Model) SaveWeights(path string) error {
	return m.with(func(h capi.Struct_SS_memtx_model) error { return takeStatus(capi.Memtx_model_save_weights(h, path)) })
}

// LoadWeights reads a safetensors file written by SaveWeights; nothing changes when it fails.
func (m *Model) LoadWeights(path string) error {
	return m.with(func(h capi.Struct_SS_memtx_model) error { return takeStatus(capi.Memtx_model_load_weights(h, path)) })
}

// MergeLoRA folds every LoRA adapter into its projection (memtx_model_merge_lora).
func (m *Model) MergeLoRA() error {
	return m.with(func(h capi.Struct_SS_memtx_model) error { return takeStatus(capi.Memtx_model_merge_lora(h)) })
}

// Describe returns the model's description (variant per layer, parameter counts, dims, device, dtype) as a
// map of its JSON.
func (m *Model) Describe() (map[string]interface{}, error) {
	var text string
	err := m.with(func(h capi.Struct_SS_memtx_model) (err error) {
		text, err = callText(func(slot uintptr) capi.Struct_SS_memtx_status { return capi.Memtx_model_describe(h, slot) })
		return err
	})
	if err != nil {
		return nil, err
	}
	out := map[string]interface{}{}
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		return nil, errorf(CodeInternal, "model description is not JSON: %v", err)
	}
	return out, nil
}

// Config returns a copy of the model's config (closed with the model's context, or by its Close).
func (m *Model) Config() (*Config, error) {
	var cfg *Config
	err := m.with(func(h capi.Struct_SS_memtx_model) error {
		ch, err := newConfigHandle(func(slot capi.Struct_SS_memtx_config) capi.Struct_SS_memtx_status {
			return capi.Memtx_model_config(h, slot)
		})
		if err != nil {
			return err
		}
		cfg, err = m.ctx.adoptConfig(ch)
		return err
	})
	return cfg, err
}
