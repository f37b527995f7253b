/* MemtxException.java: the exception every failing memtx call throws, carrying the memtx status code, its
 * name and the library's message; also the one place a memtx_status object is turned into it and freed. */
package org.memtx;

/**
 * A memtx call failed. Unchecked (a RuntimeException): every call into memtx can fail (a misspelt config key, an
 * out-of-vocabulary token id, a cancelled run, a closed object), and callers catch it where they can act on
 * {@link #code()}. Using a closed object throws it with code INVALID_ARGUMENT.
 */
public class MemtxException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final StatusCode code;
  private final int rawCode;
  private final String codeName;
  private final String detail;

  public MemtxException(StatusCode code, String message) {
    this(code, code.value(), code.name(), message);
  }

  MemtxException(StatusCode code, int rawCode, String codeName, String message) {
    super("[" + codeName + "] " + message);
    this.code = code;
    this.rawCode = rawCode;
    this.codeName = codeName;
    this.detail = message;
  }

  /** The status code. */
  public StatusCode code() {
    return code;
  }

  /** The numeric code as libmemtx returned it (differs from code().value() only for UNKNOWN). */
  public int rawCode() {
    return rawCode;
  }

  /** The code's name as libmemtx gives it (memtx_status_code_name), e.g. "CONFIG". */
  public String codeName() {
    return codeName;
  }

  /** libmemtx's message (what getMessage returns, without the "[CODE] " prefix). */
  public String detail() {
    return detail;
  }

  /** Throws for a failed call (status non-null) after freeing the status; returns for success (null). */
  static void check(SWIGTYPE_p_memtx_status status) {
    if (status == null) return;
    int raw;
    String name;
    String message;
    try {
      raw = MemtxNative.memtx_status_get_code(status);
      name = MemtxNative.memtx_status_code_name(raw);
      message = MemtxNative.memtx_status_message(status);
    } finally {
      MemtxNative.memtx_status_free(status);
    }
    throw new MemtxException(StatusCode.of(raw), raw, name, message);
  }

  /** Frees a status without looking at it (after another failure that is reported instead). */
  static void discard(SWIGTYPE_p_memtx_status status) {
    if (status != null) MemtxNative.memtx_status_free(status);
  }

  static MemtxException invalid(String message) {
    return new MemtxException(StatusCode.INVALID_ARGUMENT, message);
  }
}
