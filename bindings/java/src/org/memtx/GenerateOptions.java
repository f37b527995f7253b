/* GenerateOptions.java: generation settings (memtx_generate_options) as a fluent Java object; the defaults
 * are libmemtx's own (memtx_generate_default_options). */
package org.memtx;

/** How Model.generate and Session.generate continue a stream. Not thread-safe; reusable. */
public final class GenerateOptions {
  private long maxNewTokens;
  private float temperature;
  private long topK;
  private float topP;
  private long seed;
  private long[] stopTokens = new long[0];
  private boolean stopAtEos;

  /** libmemtx's defaults: 64 new tokens, temperature 1, no top-k or top-p filter, seed 0, stop at end-of-sequence. */
  public GenerateOptions() {
    memtx_generate_options d = MemtxNative.memtx_generate_options_new();
    if (d == null) throw new MemtxException(StatusCode.OUT_OF_MEMORY, "no memory for generation options");
    try {
      maxNewTokens = d.getMax_new_tokens();
      temperature = d.getTemperature();
      topK = d.getTop_k();
      topP = d.getTop_p();
      seed = d.getSeed();
      stopAtEos = d.getStop_at_eos() != 0;
    } finally {
      MemtxNative.memtx_generate_options_free(d);
    }
  }

  public GenerateOptions maxNewTokens(long n) {
    maxNewTokens = n;
    return this;
  }

  /** 0 = greedy (argmax). */
  public GenerateOptions temperature(float t) {
    temperature = t;
    return this;
  }

  /** 0 = no top-k filter. */
  public GenerateOptions topK(long k) {
    topK = k;
    return this;
  }

  /** 1 = no nucleus filter. */
  public GenerateOptions topP(float p) {
    topP = p;
    return this;
  }

  /** The sampling seed (64 bits): the same seed gives the same tokens. */
  public GenerateOptions seed(long s) {
    seed = s;
    return this;
  }

  /** Generation ends when one of these is produced (it is not returned). */
  public GenerateOptions stopTokens(long... tokens) {
    stopTokens = tokens == null ? new long[0] : tokens.clone();
    return this;
  }

  /** Whether the tokenizer's end-of-sequence token also stops generation. */
  public GenerateOptions stopAtEos(boolean stop) {
    stopAtEos = stop;
    return this;
  }

  public long maxNewTokens() {
    return maxNewTokens;
  }

  public float temperature() {
    return temperature;
  }

  public long topK() {
    return topK;
  }

  public float topP() {
    return topP;
  }

  public long seed() {
    return seed;
  }

  public long[] stopTokens() {
    return stopTokens.clone();
  }

  public boolean stopAtEos() {
    return stopAtEos;
  }

  /** The output capacity a generation with these options needs. */
  int capacity() {
    if (maxNewTokens < 0 || maxNewTokens > Integer.MAX_VALUE - 8)
      throw MemtxException.invalid("GenerateOptions.maxNewTokens must be in [0, " + (Integer.MAX_VALUE - 8) + "], not " + maxNewTokens);
    return (int) maxNewTokens;
  }

  /** A native copy; free it with MemtxNative.memtx_generate_options_free. */
  memtx_generate_options toNative() {
    memtx_generate_options o = MemtxNative.memtx_generate_options_new();
    if (o == null) throw new MemtxException(StatusCode.OUT_OF_MEMORY, "no memory for generation options");
    o.setMax_new_tokens(maxNewTokens);
    o.setTemperature(temperature);
    o.setTop_k(topK);
    o.setTop_p(topP);
    o.setSeed(seed);
    o.setStop_at_eos(stopAtEos ? 1 : 0);
    if (MemtxNative.memtx_generate_options_set_stop_tokens(o, stopTokens) != 0) {
      MemtxNative.memtx_generate_options_free(o);
      throw new MemtxException(StatusCode.OUT_OF_MEMORY, "no memory for stop tokens");
    }
    return o;
  }
}
