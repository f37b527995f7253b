/* Out.java: the C API's out-parameters through memtx.i's slots: a call that returns text (char**, with its length
 * for the _n calls) or a new handle (memtx_X**) is given a slot, checked, and the slot read and freed, whatever
 * happens. */
package org.memtx;

import java.util.function.BiFunction;
import java.util.function.Function;

final class Out {
  private Out() {}

  /** Runs call with a text slot; returns the text it wrote, or throws its status. */
  static String text(Function<SWIGTYPE_p_p_char, SWIGTYPE_p_memtx_status> call) {
    SWIGTYPE_p_p_char slot = MemtxNative.memtx_text_slot_new();
    if (slot == null) throw new MemtxException(StatusCode.OUT_OF_MEMORY, "no memory for a text slot");
    try {
      MemtxException.check(call.apply(slot));
      return MemtxNative.memtx_text_slot_take(slot);
    } finally {
      MemtxNative.memtx_text_slot_free(slot);
    }
  }

  /** Runs a _n call with a text slot and a length cell; returns the text of that length (NUL bytes included). */
  static String textN(BiFunction<SWIGTYPE_p_p_char, long[], SWIGTYPE_p_memtx_status> call) {
    SWIGTYPE_p_p_char slot = MemtxNative.memtx_text_slot_new();
    if (slot == null) throw new MemtxException(StatusCode.OUT_OF_MEMORY, "no memory for a text slot");
    try {
      long[] length = new long[1];
      MemtxException.check(call.apply(slot, length));
      if (length[0] > Integer.MAX_VALUE - 8) {
        throw MemtxException.invalid(length[0] + " bytes of text do not fit a Java array");
      }
      byte[] bytes = new byte[(int) length[0]];
      MemtxNative.memtx_text_slot_copy(slot, bytes);
      return Utf8.decode(bytes);
    } finally {
      MemtxNative.memtx_text_slot_free(slot);
    }
  }

  static SWIGTYPE_p_memtx_context context(Function<SWIGTYPE_p_p_memtx_context, SWIGTYPE_p_memtx_status> call) {
    SWIGTYPE_p_p_memtx_context slot = MemtxNative.memtx_context_slot_new();
    if (slot == null) throw new MemtxException(StatusCode.OUT_OF_MEMORY, "no memory for a handle slot");
    try {
      MemtxException.check(call.apply(slot));
      return nonNull(MemtxNative.memtx_context_slot_get(slot));
    } finally {
      MemtxNative.memtx_context_slot_free(slot);
    }
  }

  static SWIGTYPE_p_memtx_config config(Function<SWIGTYPE_p_p_memtx_config, SWIGTYPE_p_memtx_status> call) {
    SWIGTYPE_p_p_memtx_config slot = MemtxNative.memtx_config_slot_new();
    if (slot == null) throw new MemtxException(StatusCode.OUT_OF_MEMORY, "no memory for a handle slot");
    try {
      MemtxException.check(call.apply(slot));
      return nonNull(MemtxNative.memtx_config_slot_get(slot));
    } finally {
      MemtxNative.memtx_config_slot_free(slot);
    }
  }

  static SWIGTYPE_p_memtx_model model(Function<SWIGTYPE_p_p_memtx_model, SWIGTYPE_p_memtx_status> call) {
    SWIGTYPE_p_p_memtx_model slot = MemtxNative.memtx_model_slot_new();
    if (slot == null) throw new MemtxException(StatusCode.OUT_OF_MEMORY, "no memory for a handle slot");
    try {
      MemtxException.check(call.apply(slot));
      return nonNull(MemtxNative.memtx_model_slot_get(slot));
    } finally {
      MemtxNative.memtx_model_slot_free(slot);
    }
  }

  static SWIGTYPE_p_memtx_session session(Function<SWIGTYPE_p_p_memtx_session, SWIGTYPE_p_memtx_status> call) {
    SWIGTYPE_p_p_memtx_session slot = MemtxNative.memtx_session_slot_new();
    if (slot == null) throw new MemtxException(StatusCode.OUT_OF_MEMORY, "no memory for a handle slot");
    try {
      MemtxException.check(call.apply(slot));
      return nonNull(MemtxNative.memtx_session_slot_get(slot));
    } finally {
      MemtxNative.memtx_session_slot_free(slot);
    }
  }

  private static <T> T nonNull(T handle) {
    if (handle == null) throw new MemtxException(StatusCode.INTERNAL, "a successful call returned no handle");
    return handle;
  }
}
