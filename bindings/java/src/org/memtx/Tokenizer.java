/* Tokenizer.java: text to token ids and back with a model's tokenizer (memtx_tokenize_n, memtx_detokenize_n: text
 * as bytes with their length, NUL characters included). */
package org.memtx;

/** A model's tokenizer (its config's model.tokenizer). Holds no native memory; close() only retires it. */
public final class Tokenizer implements AutoCloseable {
  private final Model model;
  private volatile boolean closed;

  Tokenizer(Model model) {
    this.model = model;
  }

  private SWIGTYPE_p_memtx_model handle() {
    if (closed) throw MemtxException.invalid("Tokenizer is closed");
    return model.handle();
  }

  /** The ids of text; special tokens written in the text become their ids. */
  public long[] encode(String text) {
    synchronized (model.lock) {
      SWIGTYPE_p_memtx_model h = handle();
      long[] count = new long[1];
      if (text == null) throw MemtxException.invalid("Tokenizer.encode: text is null");
      byte[] bytes = Utf8.encode(text);  // with its length: NUL characters are text too
      MemtxException.check(MemtxNative.memtx_tokenize_n(h, bytes, null, count));
      if (count[0] > Integer.MAX_VALUE - 8) throw MemtxException.invalid("Tokenizer.encode: " + count[0] + " ids do not fit a Java array");
      long[] ids = new long[(int) count[0]];
      if (ids.length == 0) return ids;
      MemtxException.check(MemtxNative.memtx_tokenize_n(h, bytes, ids, count));
      return ids;
    }
  }

  /** The text of ids (INVALID_ARGUMENT for an id outside the vocabulary). */
  public String decode(long[] ids) {
    synchronized (model.lock) {
      SWIGTYPE_p_memtx_model h = handle();
      return Out.textN((slot, length) -> MemtxNative.memtx_detokenize_n(h, ids, slot, length));
    }
  }

  @Override
  public void close() {
    closed = true;
  }
}
