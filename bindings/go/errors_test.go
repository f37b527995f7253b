// errors_test.go: status codes as Go values (the numbers of memtx.h, their names), and the errors of
// configs: a misspelt key, a bad value, a missing file, keys read back.

package memtx

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"memtx/internal/capi"
)

func TestCodesMatchTheCAPI(t *testing.T) {
	pairs := []struct {
		code Code
		c    capi.Enum_SS_memtx_status_code
		name string
	}{
		{CodeOK, capi.MEMTX_OK, "OK"}, {CodeInvalidArgument, capi.MEMTX_INVALID_ARGUMENT, "INVALID_ARGUMENT"},
		{CodeNotFound, capi.MEMTX_NOT_FOUND, "NOT_FOUND"}, {CodeIO, capi.MEMTX_IO, "IO"},
		{CodeConfig, capi.MEMTX_CONFIG, "CONFIG"}, {CodePlugin, capi.MEMTX_PLUGIN, "PLUGIN"},
		{CodeABIMismatch, capi.MEMTX_ABI_MISMATCH, "ABI_MISMATCH"}, {CodeDuplicate, capi.MEMTX_DUPLICATE, "DUPLICATE"},
		{CodeTorch, capi.MEMTX_TORCH, "TORCH"}, {CodeOutOfMemory, capi.MEMTX_OUT_OF_MEMORY, "OUT_OF_MEMORY"},
		{CodeCancelled, capi.MEMTX_CANCELLED, "CANCELLED"}, {CodeInternal, capi.MEMTX_INTERNAL, "INTERNAL"},
		{CodeBusy, capi.MEMTX_BUSY, "BUSY"},
	}
	for _, p := range pairs {
		if int(p.code) != int(p.c) || p.code.String() != p.name {
			t.Errorf("Code %d (%s): C has %d, want name %s", int(p.code), p.code, int(p.c), p.name)
		}
	}
	if CodeOf(nil) != CodeOK || CodeOf(errors.New("x")) != CodeInternal {
		t.Error("CodeOf of nil / a foreign error")
	}
}

func TestMisspeltConfigKey(t *testing.T) {
	_, err := shared.ParseConfig("model:\n  hiden_dim: 32\n")
	e := requireCode(t, err, CodeConfig)
	if !strings.Contains(e.Message, "hiden_dim") || !strings.Contains(err.Error(), "CONFIG") {
		t.Fatalf("error does not name the key and code: %v", err)
	}
	// The error survives wrapping.
	wrapped := fmt.Errorf("loading: %w", err)
	var again *Error
	if !errors.As(wrapped, &again) || again.Code != CodeConfig || CodeOf(wrapped) != CodeConfig {
		t.Fatalf("errors.As through a wrap: %v", wrapped)
	}

	cfg, err := shared.NewConfig()
	if err != nil {
		t.Fatalf("NewConfig: %v", err)
	}
	defer cfg.Close()
	e = requireCode(t, cfg.Set("model.hiden_dim", "32"), CodeConfig)
	if !strings.Contains(e.Message, "hiden_dim") {
		t.Fatalf("Set error does not name the key: %s", e.Message)
	}
	requireCode(t, cfg.Set("model.hidden_dim", "many"), CodeConfig)
	if err := cfg.Set("model.hidden_dim", "48"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if v, err := cfg.Get("model.hidden_dim"); err != nil || v != "48" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if y, err := cfg.YAML(); err != nil || !strings.Contains(y, "hidden_dim: 48") {
		t.Fatalf("YAML: %v\n%s", err, y)
	}
	if j, err := cfg.JSON(); err != nil || !strings.Contains(j, "\"hidden_dim\"") {
		t.Fatalf("JSON: %v\n%s", err, j)
	}
	_, err = shared.LoadConfig("/nonexistent/memtx.yaml")
	if CodeOf(err) == CodeOK {
		t.Fatal("LoadConfig of a missing file succeeded")
	}
	_, err = shared.LoadModel("/nonexistent/model")
	requireCode(t, err, CodeNotFound)
}

func TestPluginsAndBuildInfo(t *testing.T) {
	list, err := shared.Plugins()
	if err != nil {
		t.Fatalf("Plugins: %v", err)
	}
	causal := list.Variant("causal")
	if causal == nil || causal.Plugin == "" || len(list.Plugins) == 0 {
		t.Fatalf("no causal variant in %+v", list)
	}
	if len(list.Failures) != 0 {
		t.Fatalf("plugin failures: %+v", list.Failures)
	}
	if list.Variant("no-such-variant") != nil {
		t.Fatal("Variant found a name that is not registered")
	}
	info, err := BuildInfo()
	if err != nil || len(info) == 0 {
		t.Fatalf("BuildInfo = %v, %v", info, err)
	}
	if Version() == "" || ABIVersion() != 2 {
		t.Fatalf("Version %q ABI %d", Version(), ABIVersion())
	}
	schema, err := shared.ConfigSchema()
	if err != nil || !strings.Contains(schema, "model.hidden_dim") {
		t.Fatalf("ConfigSchema: %v", err)
	}
}
