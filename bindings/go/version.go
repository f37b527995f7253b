// version.go: the library's version, ABI version and build information.

package memtx

import (
	"encoding/json"

	"memtx/internal/capi"
)

// Version returns the version of the loaded libmemtx ("0.1.0").
func Version() string { return capi.Memtx_version() }

// ABIVersion returns the C ABI version of the loaded libmemtx.
func ABIVersion() int { return capi.Memtx_abi_version() }

// BuildInfo returns the library's build information (memtx and LibTorch versions, CUDA, BLAS, threads, plugin
// ABI) as a map of its JSON.
func BuildInfo() (map[string]interface{}, error) {
	text, err := callText(func(slot uintptr) capi.Struct_SS_memtx_status { return capi.Memtx_build_info(slot) })
	if err != nil {
		return nil, err
	}
	info := map[string]interface{}{}
	if err := json.Unmarshal([]byte(text), &info); err != nil {
		return nil, errorf(CodeInternal, "build info is not JSON: %v", err)
	}
	return info, nil
}
