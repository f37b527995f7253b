// context.go: Context, the plugin registry and logging of libmemtx (memtx_context), and the configs and models
// made from it, which it closes when it is closed.

package memtx

import (
	"runtime"
	"sync"

	"memtx/internal/capi"
)

// ContextOptions are the options of NewContext (memtx_context_options).
type ContextOptions struct {
	// LoadDefaultPlugins loads the plugins beside libmemtx, the build tree's and MEMTX_PLUGIN_PATH's.
	LoadDefaultPlugins bool
	// LogLevel: 0 quiet, 1 warnings, 2 info (training progress lines), 3 debug. Log lines go to stderr.
	LogLevel int
}

// DefaultContextOptions returns the library's defaults (default plugins loaded, warnings logged).
func DefaultContextOptions() ContextOptions {
	o := capi.Memtx_context_options_new()
	if o.Swigcptr() == 0 {
		return ContextOptions{LoadDefaultPlugins: true, LogLevel: 1}
	}
	defer capi.Memtx_context_options_free(o)
	return ContextOptions{LoadDefaultPlugins: o.GetLoad_default_plugins() != 0, LogLevel: o.GetLog_level()}
}

// Context is a plugin registry; it is safe for use by several goroutines. Configs and models are made from a
// Context and must not outlive it: closing it closes them.
type Context struct {
	mu sync.RWMutex // RLock around a call on h, Lock to free it
	h  capi.Struct_SS_memtx_context

	cmu      sync.Mutex // guards children and closing
	children map[child]struct{}
	closing  bool
}

// child is the state of a config or model made from a context: its handle and locks, without a pointer back
// to the Config or Model (so that a forgotten one is finalized while its context lives).
type child interface{ close() }

// NewContext makes a context; opts nil means DefaultContextOptions().
func NewContext(opts *ContextOptions) (*Context, error) {
	o := DefaultContextOptions()
	if opts != nil {
		o = *opts
	}
	copts := capi.Memtx_context_options_new()
	if copts.Swigcptr() == 0 {
		return nil, errNoMemory("context options")
	}
	defer capi.Memtx_context_options_free(copts)
	copts.SetLoad_default_plugins(boolInt(o.LoadDefaultPlugins))
	copts.SetLog_level(o.LogLevel)
	h, err := newContextHandle(func(slot capi.Struct_SS_memtx_context) capi.Struct_SS_memtx_status {
		return capi.Memtx_context_create(copts, slot)
	})
	if err != nil {
		return nil, err
	}
	c := &Context{h: h, children: map[child]struct{}{}}
	runtime.SetFinalizer(c, func(c *Context) { c.Close() })
	return c, nil
}

// Close closes the configs and models made from the context (waiting for their running calls), then frees
// it. Closing twice is fine.
func (c *Context) Close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.h == nil {
		return nil
	}
	c.cmu.Lock()
	c.closing = true
	children := make([]child, 0, len(c.children))
	for k := range c.children {
		children = append(children, k)
	}
	c.children = map[child]struct{}{}
	c.cmu.Unlock()
	for _, k := range children {
		k.close()
	}
	capi.Memtx_context_free(c.h)
	c.h = nil
	runtime.SetFinalizer(c, nil)
	return nil
}

// with runs f on the live handle, or returns an error when the context is closed.
func (c *Context) with(f func(h capi.Struct_SS_memtx_context) error) error {
	if c == nil {
		return errClosed("context")
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.h == nil {
		return errClosed("context")
	}
	return f(c.h)
}

// adopt records a child to close with the context; false when the context is closing.
func (c *Context) adopt(k child) bool {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	if c.closing {
		return false
	}
	c.children[k] = struct{}{}
	return true
}

func (c *Context) release(k child) {
	c.cmu.Lock()
	delete(c.children, k)
	c.cmu.Unlock()
}

// SetLogLevel changes the level of the log lines written to stderr (0 quiet .. 3 debug).
func (c *Context) SetLogLevel(level int) error {
	return c.with(func(h capi.Struct_SS_memtx_context) error {
		capi.Memtx_context_set_log_level(h, level)
		return nil
	})
}

// LoadPlugin loads one plugin file (codes NOT_FOUND, PLUGIN, ABI_MISMATCH, DUPLICATE).
func (c *Context) LoadPlugin(path string) error {
	return c.with(func(h capi.Struct_SS_memtx_context) error { return takeStatus(capi.Memtx_plugin_load(h, path)) })
}

// LoadPluginDir loads every shared library in dir and returns the first failure.
func (c *Context) LoadPluginDir(dir string) error {
	return c.with(func(h capi.Struct_SS_memtx_context) error { return takeStatus(capi.Memtx_plugin_load_dir(h, dir)) })
}

// ConfigSchema returns the JSON array of every configuration key (memtx_config_schema).
func (c *Context) ConfigSchema() (string, error) {
	var text string
	err := c.with(func(h capi.Struct_SS_memtx_context) (err error) {
		text, err = callText(func(slot uintptr) capi.Struct_SS_memtx_status { return capi.Memtx_config_schema(h, slot) })
		return err
	})
	return text, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
