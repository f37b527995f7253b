// config.go: Config, a model and training configuration (memtx_config): made empty, loaded from YAML/JSON
// files or text, read and changed key by key, validated and dumped.

package memtx

import (
	"runtime"
	"sync"

	"memtx/internal/capi"
)

// Config is a configuration made from a Context; one goroutine uses it at a time (calls wait for each other).
type Config struct {
	c   *configCore
	ctx *Context
}

// configCore is a config's handle and lock (what its context closes).
type configCore struct {
	mu sync.Mutex
	h  capi.Struct_SS_memtx_config
}

func (k *configCore) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.h != nil {
		capi.Memtx_config_free(k.h)
		k.h = nil
	}
}

// NewConfig returns a config with every key at its default.
func (c *Context) NewConfig() (*Config, error) {
	return c.makeConfig(func(h capi.Struct_SS_memtx_context, slot capi.Struct_SS_memtx_config) capi.Struct_SS_memtx_status {
		return capi.Memtx_config_create(h, slot)
	})
}

// LoadConfig reads a YAML or JSON file; errors name the file, line, key and expectation.
func (c *Context) LoadConfig(path string) (*Config, error) {
	return c.makeConfig(func(h capi.Struct_SS_memtx_context, slot capi.Struct_SS_memtx_config) capi.Struct_SS_memtx_status {
		return capi.Memtx_config_load(h, path, slot)
	})
}

// ParseConfig reads YAML or JSON text.
func (c *Context) ParseConfig(text string) (*Config, error) {
	return c.makeConfig(func(h capi.Struct_SS_memtx_context, slot capi.Struct_SS_memtx_config) capi.Struct_SS_memtx_status {
		return capi.Memtx_config_parse(h, text, slot)
	})
}

func (c *Context) makeConfig(call func(capi.Struct_SS_memtx_context, capi.Struct_SS_memtx_config) capi.Struct_SS_memtx_status) (*Config, error) {
	var cfg *Config
	err := c.with(func(h capi.Struct_SS_memtx_context) error {
		ch, err := newConfigHandle(func(slot capi.Struct_SS_memtx_config) capi.Struct_SS_memtx_status { return call(h, slot) })
		if err != nil {
			return err
		}
		cfg, err = c.adoptConfig(ch)
		return err
	})
	return cfg, err
}

// adoptConfig wraps a new config handle of this context (freeing it when the context is closing).
func (c *Context) adoptConfig(h capi.Struct_SS_memtx_config) (*Config, error) {
	cfg := &Config{c: &configCore{h: h}, ctx: c}
	if !c.adopt(cfg.c) {
		capi.Memtx_config_free(h)
		return nil, errClosed("context")
	}
	runtime.SetFinalizer(cfg, func(cfg *Config) { cfg.Close() })
	return cfg, nil
}

// Close frees the config; closing twice is fine.
func (cfg *Config) Close() error {
	if cfg == nil {
		return nil
	}
	cfg.c.close()
	cfg.ctx.release(cfg.c)
	runtime.SetFinalizer(cfg, nil)
	return nil
}

// with runs f on the live handle (holding the config's lock), or returns an error when it is closed.
func (cfg *Config) with(f func(h capi.Struct_SS_memtx_config) error) error {
	if cfg == nil {
		return errClosed("config")
	}
	cfg.c.mu.Lock()
	defer cfg.c.mu.Unlock()
	if cfg.c.h == nil {
		return errClosed("config")
	}
	return f(cfg.c.h)
}

// Set sets a dotted key ("model.hidden_dim") to a value written as text ("256", "true", "[causal, ssm]").
func (cfg *Config) Set(key, value string) error {
	return cfg.with(func(h capi.Struct_SS_memtx_config) error { return takeStatus(capi.Memtx_config_set(h, key, value)) })
}

// Get returns a key's value as text.
func (cfg *Config) Get(key string) (string, error) {
	var value string
	err := cfg.with(func(h capi.Struct_SS_memtx_config) (err error) {
		value, err = callText(func(slot uintptr) capi.Struct_SS_memtx_status { return capi.Memtx_config_get(h, key, slot) })
		return err
	})
	return value, err
}

// Validate checks everything model creation and training would refuse before reading data.
func (cfg *Config) Validate() error {
	return cfg.with(func(h capi.Struct_SS_memtx_config) error { return takeStatus(capi.Memtx_config_validate(h)) })
}

// YAML returns the whole config as YAML.
func (cfg *Config) YAML() (string, error) { return cfg.dump(false) }

// JSON returns the whole config as JSON.
func (cfg *Config) JSON() (string, error) { return cfg.dump(true) }

func (cfg *Config) dump(asJSON bool) (string, error) {
	var text string
	err := cfg.with(func(h capi.Struct_SS_memtx_config) (err error) {
		text, err = callText(func(slot uintptr) capi.Struct_SS_memtx_status {
			return capi.Memtx_config_dump(h, boolInt(asJSON), slot)
		})
		return err
	})
	return text, err
}
