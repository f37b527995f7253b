/* GenerateOptions.java: generation settings (memtx_generate_options) as a fluent Java object; the defaults
 * are libmemtx's own (memtx_generate_default_options). The filters apply in the order of memtx.h: repetition
 * penalty, temperature, top-k, top-p, min-p. The C API's per-token callback (on_token) is not available here. */
package org.memtx;

/** How Model.generate and Session.generate continue a stream. Not thread-safe; reusable. */
public final class GenerateOptions {
  private long maxNewTokens;
  private float temperature;
  private long topK;
  private float topP;
  private float minP;
  private float repetitionPenalty;
  private double maxTime;
  private long seed;
  private long[] stopTokens = new long[0];
  private boolean stopAtEos;

  /**
   * libmemtx's defaults: 64 new tokens, temperature 1, no top-k, top-p or min-p filter, no repetition penalty, no
   * time limit, seed 0, stop at end-of-sequence.
   */
  public GenerateOptions() {
    memtx_generate_options d = MemtxNative.memtx_generate_options_new();
    if (d == null) throw new MemtxException(StatusCode.OUT_OF_MEMORY, "no memory for generation options");
    try {
      maxNewTokens = d.getMax_new_tokens();
      temperature = d.getTemperature();
      topK = d.getTop_k();
      topP = d.getTop_p();
      minP = d.getMin_p();
      repetitionPenalty = d.getRepetition_penalty();
      maxTime = d.getMax_time();
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

  /** 0 = no min-p filter; otherwise tokens less likely than minP times the most likely one are dropped. */
  public GenerateOptions minP(float p) {
    minP = p;
    return this;
  }

  /** 1 = off; a positive logit of an id already in the prompt or the output is divided by it, a negative one multiplied. */
  public GenerateOptions repetitionPenalty(float penalty) {
    repetitionPenalty = penalty;
    return this;
  }

  /** Seconds of wall clock; 0 = no limit. Generation stops (keeping its tokens) once it has run this long. */
  public GenerateOptions maxTime(double seconds) {
    maxTime = seconds;
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

  public float minP() {
    return minP;
  }

  public float repetitionPenalty() {
    return repetitionPenalty;
  }

  public double maxTime() {
    return maxTime;
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
    o.setMin_p(minP);
    o.setRepetition_penalty(repetitionPenalty);
    o.setMax_time(maxTime);
    o.setSeed(seed);
    o.setStop_at_eos(stopAtEos ? 1 : 0);
    if (MemtxNative.memtx_generate_options_set_stop_tokens(o, stopTokens) != 0) {
      MemtxNative.memtx_generate_options_free(o);
      throw new MemtxException(StatusCode.OUT_OF_MEMORY, "no memory for stop tokens");
    }
    return o;
  }
}
