// slots.go: calls with out-parameters, made through the out-parameter slots of bindings/swig/memtx.i.

package memtx

import "memtx/internal/capi"

// callText runs call with an empty text slot (char** out_text) and returns the text it left there.
func callText(call func(slot uintptr) capi.Struct_SS_memtx_status) (string, error) {
	slot := capi.Memtx_text_slot_new()
	if slot == 0 {
		return "", errNoMemory("a text slot")
	}
	defer capi.Memtx_text_slot_free(slot)
	if err := takeStatus(call(slot)); err != nil {
		return "", err
	}
	return capi.Memtx_text_slot_take(slot), nil
}

// callTextN runs a _n call with an empty text slot and a length cell, and returns the text it left there with
// that length: text holding NUL bytes arrives whole.
func callTextN(call func(slot uintptr, length []uint64) capi.Struct_SS_memtx_status) (string, error) {
	slot := capi.Memtx_text_slot_new()
	if slot == 0 {
		return "", errNoMemory("a text slot")
	}
	defer capi.Memtx_text_slot_free(slot)
	length := []uint64{0}
	if err := takeStatus(call(slot, length)); err != nil {
		return "", err
	}
	text := make([]byte, length[0])
	capi.Memtx_text_slot_copy(slot, text)
	return string(text), nil
}

// SWIG's Go module gives a handle and a slot holding one (T* and T**) the same Go type; newHandle keeps the
// two apart: it makes an empty slot, runs call with it and returns the handle call left there.
func newHandle[H interface{ Swigcptr() uintptr }](what string, slotNew func() H, slotGet func(H) H, slotFree func(H),
	call func(slot H) capi.Struct_SS_memtx_status) (H, error) {
	var none H
	slot := slotNew()
	if slot.Swigcptr() == 0 {
		return none, errNoMemory("a " + what + " slot")
	}
	defer slotFree(slot)
	if err := takeStatus(call(slot)); err != nil {
		return none, err
	}
	return slotGet(slot), nil
}

func newContextHandle(call func(slot capi.Struct_SS_memtx_context) capi.Struct_SS_memtx_status) (capi.Struct_SS_memtx_context, error) {
	return newHandle("context", capi.Memtx_context_slot_new, capi.Memtx_context_slot_get, capi.Memtx_context_slot_free, call)
}

func newConfigHandle(call func(slot capi.Struct_SS_memtx_config) capi.Struct_SS_memtx_status) (capi.Struct_SS_memtx_config, error) {
	return newHandle("config", capi.Memtx_config_slot_new, capi.Memtx_config_slot_get, capi.Memtx_config_slot_free, call)
}

func newModelHandle(call func(slot capi.Struct_SS_memtx_model) capi.Struct_SS_memtx_status) (capi.Struct_SS_memtx_model, error) {
	return newHandle("model", capi.Memtx_model_slot_new, capi.Memtx_model_slot_get, capi.Memtx_model_slot_free, call)
}

func newSessionHandle(call func(slot capi.Struct_SS_memtx_session) capi.Struct_SS_memtx_status) (capi.Struct_SS_memtx_session, error) {
	return newHandle("session", capi.Memtx_session_slot_new, capi.Memtx_session_slot_get, capi.Memtx_session_slot_free, call)
}
