/* Session.java: a stream (memtx_session) a model reads piece by piece, carrying its state between calls: the
 * pieces give the same logits as one forward over the whole stream. */
package org.memtx;

import java.util.Arrays;

/** One stream (batch 1) over a model; closed when its model closes. Shares the model's lock. */
public final class Session extends NativeResource {
  private final Model model;
  private SWIGTYPE_p_memtx_session handle;

  Session(Model model, SWIGTYPE_p_memtx_session handle) {
    super("Session", model, model.lock);
    this.model = model;
    this.handle = handle;
  }

  /** Next-token loss of fed tokens: the sum (nats) and the number of predicted tokens. */
  public static final class Loss {
    public final double sum;
    public final long predicted;

    Loss(double sum, long predicted) {
      this.sum = sum;
      this.predicted = predicted;
    }

    /** sum / predicted (NaN when nothing was predicted). */
    public double mean() {
      return predicted == 0 ? Double.NaN : sum / predicted;
    }
  }

  private SWIGTYPE_p_memtx_session handle() {
    requireOpen();
    model.handle(); // refuses calls from a progress listener of the model's training
    return handle;
  }

  /**
   * Continues the stream with token ids (none feeds nothing); returns the logits after the stream's last token
   * (vocab floats), or null while the stream is empty. INVALID_ARGUMENT for an id outside the vocabulary (the
   * stream is then unchanged).
   */
  public float[] feed(long... tokens) {
    synchronized (lock) {
      SWIGTYPE_p_memtx_session h = handle();
      float[] logits = logitsBuffer(h, tokens.length > 0);
      MemtxException.check(MemtxNative.memtx_session_feed(h, tokens, logits));
      return logits;
    }
  }

  /** The same on text, tokenized on its own (no beginning-of-sequence token added). */
  public float[] feedText(String text) {
    synchronized (lock) {
      SWIGTYPE_p_memtx_session h = handle();
      float[] logits = logitsBuffer(h, !text.isEmpty());
      MemtxException.check(MemtxNative.memtx_session_feed_text_n(h, Utf8.encode(text), logits));
      return logits;
    }
  }

  /** Feeds tokens and returns the next-token loss of the fed tokens. */
  public Loss feedLoss(long... tokens) {
    synchronized (lock) {
      double[] sum = new double[1];
      long[] predicted = new long[1];
      MemtxException.check(MemtxNative.memtx_session_feed_loss(handle(), tokens, sum, predicted));
      return new Loss(sum[0], predicted[0]);
    }
  }

  /** Continues the stream (not empty); the new tokens become part of it. */
  public long[] generate(GenerateOptions options) {
    GenerateOptions o = options != null ? options : new GenerateOptions();
    long[] out = new long[o.capacity()];
    long[] count = new long[1];
    synchronized (lock) {
      SWIGTYPE_p_memtx_session h = handle();
      memtx_generate_options n = o.toNative();
      try {
        MemtxException.check(MemtxNative.memtx_session_generate(h, n, out, count));
      } finally {
        MemtxNative.memtx_generate_options_free(n);
      }
    }
    return Arrays.copyOf(out, (int) count[0]);
  }

  /** The same, returning the continuation's text. */
  public String generateText(GenerateOptions options) {
    GenerateOptions o = options != null ? options : new GenerateOptions();
    synchronized (lock) {
      SWIGTYPE_p_memtx_session h = handle();
      memtx_generate_options n = o.toNative();
      try {
        return Out.textN((slot, length) -> MemtxNative.memtx_session_generate_text_n(h, n, slot, length));
      } finally {
        MemtxNative.memtx_generate_options_free(n);
      }
    }
  }

  /** Back to an empty stream. */
  public void reset() {
    synchronized (lock) {
      MemtxException.check(MemtxNative.memtx_session_reset(handle()));
    }
  }

  /** Tokens in the stream so far. */
  public long position() {
    synchronized (lock) {
      return MemtxNative.memtx_session_position(handle());
    }
  }

  /** Bytes held by the stream's state tensors. */
  public long stateBytes() {
    synchronized (lock) {
      return MemtxNative.memtx_session_state_bytes(handle());
    }
  }

  /** A logits array when the stream will not be empty after the call, else null. */
  private float[] logitsBuffer(SWIGTYPE_p_memtx_session h, boolean feedsSomething) {
    if (!feedsSomething && MemtxNative.memtx_session_position(h) == 0) return null;
    return new float[(int) model.vocabSize()];
  }

  @Override
  void free() {
    MemtxNative.memtx_session_free(handle);
    handle = null;
  }
}
