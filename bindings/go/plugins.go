// plugins.go: the plugin list of a Context (memtx_plugin_list) parsed into Go values.

package memtx

import (
	"encoding/json"

	"memtx/internal/capi"
)

// PluginList is what a context has loaded: plugins, the attention variants they registered, and the plugin
// files that failed to load.
type PluginList struct {
	Plugins  []Plugin        `json:"plugins"`
	Variants []Variant       `json:"variants"`
	Failures []PluginFailure `json:"failures"`
}

// Plugin is one loaded plugin file.
type Plugin struct {
	File     string   `json:"file"`
	Name     string   `json:"name"`
	Version  string   `json:"version"`
	Variants []string `json:"variants"`
}

// Variant is one registered attention variant and the configuration keys it reads.
type Variant struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Recurrent   bool            `json:"recurrent"`
	Plugin      string          `json:"plugin"`
	Options     []VariantOption `json:"options"`
}

// VariantOption is a configuration key of a variant; Default is its JSON value.
type VariantOption struct {
	Key     string          `json:"key"`
	Type    string          `json:"type"`
	Default json.RawMessage `json:"default"`
	Doc     string          `json:"doc"`
}

// PluginFailure is a plugin file that did not load.
type PluginFailure struct {
	File    string `json:"file"`
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// Plugins lists the loaded plugins and variants.
func (c *Context) Plugins() (*PluginList, error) {
	var text string
	err := c.with(func(h capi.Struct_SS_memtx_context) (err error) {
		text, err = callText(func(slot uintptr) capi.Struct_SS_memtx_status { return capi.Memtx_plugin_list(h, slot) })
		return err
	})
	if err != nil {
		return nil, err
	}
	var list PluginList
	if err := json.Unmarshal([]byte(text), &list); err != nil {
		return nil, errorf(CodeInternal, "plugin list is not the documented JSON: %v", err)
	}
	return &list, nil
}

// Variant returns the registered variant named name, or nil.
func (l *PluginList) Variant(name string) *Variant {
	for i := range l.Variants {
		if l.Variants[i].Name == name {
			return &l.Variants[i]
		}
	}
	return nil
}
