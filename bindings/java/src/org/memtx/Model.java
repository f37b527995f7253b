/* Model.java: a memtx model (memtx_model): creation from a config or a folder, saving, forward, tokenizer,
 * generation, evaluation, sessions and training with progress and cancellation. */
package org.memtx;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * A model. Used by one thread at a time: calls from several threads wait for each other (a model shares its lock
 * with its sessions), except {@link #cancel()} and {@link #trainProgress()}, which never wait. It is closed when
 * its context closes; closing it closes its sessions and cancels a running training, generation or evaluation.
 */
public final class Model extends NativeResource {
  private final Context context;
  private final Object handleGuard = new Object(); // cancel and poll against free
  private SWIGTYPE_p_memtx_model handle;           // written under lock and handleGuard
  private volatile Thread training;                // the thread inside train (it holds the lock)
  private volatile boolean cancelRequested;        // cancel() during the current training run
  private volatile boolean closeRequested;

  private Model(Context context, SWIGTYPE_p_memtx_model handle) {
    super("Model", context, new Object());
    this.context = context;
    this.handle = handle;
  }

  private static Model adopt(Context context, SWIGTYPE_p_memtx_model handle) {
    Model model = new Model(context, handle);
    try {
      context.adopt(model);
    } catch (MemtxException e) {
      MemtxNative.memtx_model_free(handle);
      throw e;
    }
    return model;
  }

  /** A model with freshly initialised weights from a config (NOT_FOUND for an unknown attention variant). */
  public static Model create(Context context, Config config) {
    synchronized (context.lock) {
      SWIGTYPE_p_memtx_context c = context.handle();
      synchronized (config.lock) {
        SWIGTYPE_p_memtx_config cfg = config.handle();
        return adopt(context, Out.model(slot -> MemtxNative.memtx_model_create(c, cfg, slot)));
      }
    }
  }

  /** Loads a folder written by memtx (save, a checkpoint, a run's final_model). */
  public static Model load(Context context, Path dir) {
    synchronized (context.lock) {
      SWIGTYPE_p_memtx_context c = context.handle();
      return adopt(context, Out.model(slot -> MemtxNative.memtx_model_load(c, dir.toString(), slot)));
    }
  }

  /** Builds a model from a Hugging Face folder (Qwen2, Llama, ...). */
  public static Model loadHf(Context context, Path dir) {
    synchronized (context.lock) {
      SWIGTYPE_p_memtx_context c = context.handle();
      return adopt(context, Out.model(slot -> MemtxNative.memtx_model_load_hf(c, dir.toString(), slot)));
    }
  }

  public Context context() {
    return context;
  }

  /** The handle, for calls made under the lock; refuses a closed model and calls from a progress listener. */
  SWIGTYPE_p_memtx_model handle() {
    requireOpen();
    if (training != null)
      throw MemtxException.invalid("Model is training: only cancel() and trainProgress() may be called from a progress listener");
    return handle;
  }

  public long vocabSize() {
    synchronized (lock) {
      return MemtxNative.memtx_model_vocab_size(handle());
    }
  }

  /** JSON: variant per layer, parameter counts, dims, device, dtype. */
  public String describe() {
    synchronized (lock) {
      SWIGTYPE_p_memtx_model h = handle();
      return Out.text(slot -> MemtxNative.memtx_model_describe(h, slot));
    }
  }

  /** A copy of the model's config (a child of the model's context). */
  public Config config() {
    synchronized (lock) {
      SWIGTYPE_p_memtx_model h = handle();
      return Config.adopt(context, Out.config(slot -> MemtxNative.memtx_model_config(h, slot)));
    }
  }

  /** Writes config.yaml and model.safetensors into dir (created when missing). */
  public void save(Path dir) {
    synchronized (lock) {
      MemtxException.check(MemtxNative.memtx_model_save(handle(), dir.toString()));
    }
  }

  /** Writes the model as a Hugging Face folder that transformers loads without custom code (LoRA folded in). */
  public void saveHf(Path dir) {
    synchronized (lock) {
      MemtxException.check(MemtxNative.memtx_model_save_hf(handle(), dir.toString()));
    }
  }

  /** Writes the LoRA adapters as a PEFT adapter folder; baseDir null names model.base_model_name as the base,
   * else the model without adapters is written there. */
  public void savePeft(Path adapterDir, Path baseDir) {
    synchronized (lock) {
      MemtxException.check(MemtxNative.memtx_model_save_peft(handle(), adapterDir.toString(),
                                                             baseDir == null ? "" : baseDir.toString()));
    }
  }

  public void saveWeights(Path file) {
    synchronized (lock) {
      MemtxException.check(MemtxNative.memtx_model_save_weights(handle(), file.toString()));
    }
  }

  /** Loads weights saved by saveWeights; changes nothing when it fails. */
  public void loadWeights(Path file) {
    synchronized (lock) {
      MemtxException.check(MemtxNative.memtx_model_load_weights(handle(), file.toString()));
    }
  }

  /** Folds LoRA adapters into the base weights (memtx_model_merge_lora). */
  public void mergeLora() {
    synchronized (lock) {
      MemtxException.check(MemtxNative.memtx_model_merge_lora(handle()));
    }
  }

  /** Logits of one sequence. */
  public Logits forward(long[] tokens) {
    return forward(tokens, 1, tokens.length);
  }

  /** Logits of batch sequences of seqLen token ids each (tokens row-major, batch * seqLen ids). */
  public Logits forward(long[] tokens, int batch, int seqLen) {
    if (tokens == null) throw MemtxException.invalid("Model.forward: tokens is null");
    if (batch < 1 || seqLen < 1 || (long) batch * seqLen != tokens.length)
      throw MemtxException.invalid("Model.forward: " + tokens.length + " token ids for batch " + batch + " x seq_len " + seqLen);
    synchronized (lock) {
      SWIGTYPE_p_memtx_model h = handle();
      long vocab = MemtxNative.memtx_model_vocab_size(h);
      long size = (long) tokens.length * vocab;
      if (size > Integer.MAX_VALUE - 8) throw MemtxException.invalid("Model.forward: " + size + " logits do not fit a Java array");
      float[] logits = new float[(int) size];
      MemtxException.check(MemtxNative.memtx_forward(h, tokens, batch, seqLen, logits));
      return new Logits(logits, batch, seqLen, (int) vocab);
    }
  }

  /** The model's tokenizer (model.tokenizer); closing it does not close the model. */
  public Tokenizer tokenizer() {
    synchronized (lock) {
      handle();
      return new Tokenizer(this);
    }
  }

  /** Continues prompt (at least one id): the new tokens, without the prompt or the stop token. */
  public long[] generate(long[] prompt, GenerateOptions options) {
    GenerateOptions o = options != null ? options : new GenerateOptions();
    long[] out = new long[o.capacity()];
    long[] count = new long[1];
    synchronized (lock) {
      SWIGTYPE_p_memtx_model h = handle();
      memtx_generate_options n = o.toNative();
      try {
        MemtxException.check(MemtxNative.memtx_generate(h, prompt, n, out, count));
      } finally {
        MemtxNative.memtx_generate_options_free(n);
      }
    }
    return Arrays.copyOf(out, (int) count[0]);
  }

  /** Continues a text prompt with the model's tokenizer; returns the continuation's text. */
  public String generateText(String prompt, GenerateOptions options) {
    GenerateOptions o = options != null ? options : new GenerateOptions();
    synchronized (lock) {
      SWIGTYPE_p_memtx_model h = handle();
      memtx_generate_options n = o.toNative();
      try {
        if (prompt == null) throw MemtxException.invalid("Model.generateText: prompt is null");
        byte[] bytes = Utf8.encode(prompt);  // with its length: NUL characters are text too
        return Out.textN((slot, length) -> MemtxNative.memtx_generate_text_n(h, bytes, n, slot, length));
      } finally {
        MemtxNative.memtx_generate_options_free(n);
      }
    }
  }

  /**
   * Mean next-token loss over the evaluation data config's training section names (null = the model's config).
   * JSON: {"split", "loss", "perplexity", "accuracy", "sequence_accuracy", "scored_sequences", "tokens",
   * "sequences", "batches", "seconds"} (sequence_accuracy: the share of windows right at every counted target).
   */
  public String evaluate(Config config) {
    synchronized (lock) {
      SWIGTYPE_p_memtx_model h = handle();
      if (config == null) return Out.text(slot -> MemtxNative.memtx_evaluate(h, null, slot));
      synchronized (config.lock) {
        SWIGTYPE_p_memtx_config c = config.handle();
        return Out.text(slot -> MemtxNative.memtx_evaluate(h, c, slot));
      }
    }
  }

  /** The passkey retrieval test (memtx_passkey); optionsJson null = defaults. Returns the JSON report. */
  public String passkey(String optionsJson) {
    synchronized (lock) {
      SWIGTYPE_p_memtx_model h = handle();
      return Out.text(slot -> MemtxNative.memtx_passkey(h, optionsJson, slot));
    }
  }

  /** A new empty stream over this model. */
  public Session newSession() {
    synchronized (lock) {
      SWIGTYPE_p_memtx_model h = handle();
      SWIGTYPE_p_memtx_session s = Out.session(slot -> MemtxNative.memtx_session_create(h, slot));
      Session session = new Session(this, s);
      try {
        adopt(session);
      } catch (MemtxException e) {
        MemtxNative.memtx_session_free(s);
        throw e;
      }
      return session;
    }
  }

  /** Trains with the model's own config. */
  public void train(ProgressListener listener) {
    train(null, listener);
  }

  /**
   * Trains in place with config's training section (null = the model's config), delivering progress to listener
   * (may be null) on this thread while memtx_train runs on a worker thread. Throws MemtxException with code
   * CANCELLED after {@link #cancel()} (a checkpoint is written first). Interrupting this thread cancels too.
   */
  public void train(Config config, ProgressListener listener) {
    synchronized (lock) {
      SWIGTYPE_p_memtx_model h = handle();
      if (config == null) {
        runTraining(h, null, listener);
        return;
      }
      synchronized (config.lock) {
        SWIGTYPE_p_memtx_config c = config.handle();
        config.setTraining(Thread.currentThread());
        try {
          runTraining(h, c, listener);
        } finally {
          config.setTraining(null);
        }
      }
    }
  }

  private void runTraining(SWIGTYPE_p_memtx_model h, SWIGTYPE_p_memtx_config c, ProgressListener listener) {
    cancelRequested = false;
    training = Thread.currentThread();
    try {
      new TrainingRun(h, c, listener, () -> cancelRequested || closeRequested).run();
    } finally {
      training = null;
    }
  }

  /**
   * Asks a running train, evaluate, generate or session generate on this model to stop (they throw CANCELLED).
   * Safe from any thread and from a progress listener; does nothing when the model is closed.
   */
  public void cancel() {
    cancelRequested = true;
    synchronized (handleGuard) {
      if (handle != null) MemtxNative.memtx_cancel(handle);
    }
  }

  /** The latest progress of a running (or the last) training; safe from any thread. */
  public TrainProgress trainProgress() {
    synchronized (handleGuard) {
      if (handle == null) throw MemtxException.invalid("Model is closed");
      return TrainingRun.poll(handle);
    }
  }

  /** JSON summary of the last training run: {"status", "steps", "final_loss", "final_model", ...}. */
  public String trainReport() {
    synchronized (lock) {
      SWIGTYPE_p_memtx_model h = handle();
      return Out.text(slot -> MemtxNative.memtx_train_report(h, slot));
    }
  }

  @Override
  void beforeClose() {
    if (training == Thread.currentThread()) return; // checkClosable refuses this close
    super.beforeClose();
    closeRequested = true;
    synchronized (handleGuard) {
      if (handle != null) MemtxNative.memtx_cancel(handle);
    }
  }

  @Override
  void checkClosable() {
    if (training == Thread.currentThread())
      throw MemtxException.invalid("Model is training: call cancel() from a progress listener, close after train returns");
    super.checkClosable();
  }

  @Override
  void free() {
    synchronized (handleGuard) {
      MemtxNative.memtx_model_free(handle);
      handle = null;
    }
  }
}
