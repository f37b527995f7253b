/* StatusCode.java: the codes of memtx_status_code (include/memtx.h), which never change number. */
package org.memtx;

/** Why a memtx call failed: mirrors {@code memtx_status_code}. */
public enum StatusCode {
  OK(0),
  INVALID_ARGUMENT(1),
  NOT_FOUND(2),
  IO(3),
  CONFIG(4),
  PLUGIN(5),
  ABI_MISMATCH(6),
  DUPLICATE(7),
  TORCH(8),
  OUT_OF_MEMORY(9),
  CANCELLED(10),
  INTERNAL(11),
  /** The model is training on another thread; the call was refused and changed nothing. */
  BUSY(12),
  /** A code this version of the bindings does not know (a newer libmemtx); see {@link MemtxException#rawCode()}. */
  UNKNOWN(-1);

  private final int value;

  StatusCode(int value) {
    this.value = value;
  }

  /** The numeric value of the C enum. */
  public int value() {
    return value;
  }

  /** The code with this numeric value, or UNKNOWN. */
  public static StatusCode of(int value) {
    for (StatusCode c : values()) {
      if (c.value == value) return c;
    }
    return UNKNOWN;
  }

  /** The name libmemtx gives the code (memtx_status_code_name), e.g. "CONFIG". */
  public String nativeName() {
    return MemtxNative.memtx_status_code_name(value);
  }
}
