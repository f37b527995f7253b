/* Logits.java: the result of Model.forward: logits [batch, seqLen, vocab] in one row-major float array. */
package org.memtx;

/** Logits of a forward pass: {@code data()[(b * seqLen + t) * vocab + v]}. */
public final class Logits {
  private final float[] data;
  private final int batch;
  private final int seqLen;
  private final int vocab;

  Logits(float[] data, int batch, int seqLen, int vocab) {
    this.data = data;
    this.batch = batch;
    this.seqLen = seqLen;
    this.vocab = vocab;
  }

  public int batch() {
    return batch;
  }

  public int seqLen() {
    return seqLen;
  }

  public int vocab() {
    return vocab;
  }

  /** All logits, row-major [batch, seqLen, vocab] (the array itself, not a copy). */
  public float[] data() {
    return data;
  }

  /** The logit of token v at position t of sequence b. */
  public float get(int b, int t, int v) {
    if (b < 0 || b >= batch || t < 0 || t >= seqLen || v < 0 || v >= vocab)
      throw new IndexOutOfBoundsException("(" + b + ", " + t + ", " + v + ") outside [" + batch + ", " + seqLen + ", " + vocab + "]");
    return data[(b * seqLen + t) * vocab + v];
  }

  /** The most likely next token after position t of sequence b. */
  public int argmax(int b, int t) {
    int best = 0;
    int row = (b * seqLen + t) * vocab;
    for (int v = 1; v < vocab; ++v) {
      if (data[row + v] > data[row + best]) best = v;
    }
    return best;
  }
}
