/* Config.java: a memtx configuration (memtx_config): made in a context from YAML/JSON text, a file or the
 * defaults; keys are dotted ("model.hidden_dim") and values text ("256", "true", "[causal, ssm]"). */
package org.memtx;

import java.nio.file.Path;

/** A configuration. Used by one thread at a time; it is closed when its context closes. */
public final class Config extends NativeResource {
  private final Context context;
  private SWIGTYPE_p_memtx_config handle;
  private volatile Thread training; // the thread of a Model.train reading this config (it holds the lock)

  private Config(Context context, SWIGTYPE_p_memtx_config handle) {
    super("Config", context, new Object());
    this.context = context;
    this.handle = handle;
  }

  /** Wraps a new handle as a child of context (freeing it when the context is closing). */
  static Config adopt(Context context, SWIGTYPE_p_memtx_config handle) {
    Config config = new Config(context, handle);
    try {
      context.adopt(config);
    } catch (MemtxException e) {
      MemtxNative.memtx_config_free(handle);
      throw e;
    }
    return config;
  }

  /** Every key at its default (built-in keys plus the options of the context's plugins). */
  public static Config defaults(Context context) {
    synchronized (context.lock) {
      SWIGTYPE_p_memtx_context c = context.handle();
      return adopt(context, Out.config(slot -> MemtxNative.memtx_config_create(c, slot)));
    }
  }

  /** Loads YAML or JSON from a file (CONFIG errors name the file, line, key and expectation). */
  public static Config load(Context context, Path file) {
    synchronized (context.lock) {
      SWIGTYPE_p_memtx_context c = context.handle();
      return adopt(context, Out.config(slot -> MemtxNative.memtx_config_load(c, file.toString(), slot)));
    }
  }

  /** Parses YAML or JSON text. */
  public static Config parse(Context context, String text) {
    synchronized (context.lock) {
      SWIGTYPE_p_memtx_context c = context.handle();
      return adopt(context, Out.config(slot -> MemtxNative.memtx_config_parse(c, text, slot)));
    }
  }

  /** The context this config was made in. */
  public Context context() {
    return context;
  }

  /** The handle, for calls made under the lock. */
  SWIGTYPE_p_memtx_config handle() {
    requireOpen();
    if (training != null)
      throw MemtxException.invalid("Config is in use by a training run (from its progress listener)");
    return handle;
  }

  /** Marks this config as read by a training run on the current thread (under the lock), or clears it. */
  void setTraining(Thread thread) {
    training = thread;
  }

  /** Sets a key from text parsed for its type. */
  public Config set(String key, String value) {
    synchronized (lock) {
      MemtxException.check(MemtxNative.memtx_config_set(handle(), key, value));
      return this;
    }
  }

  /** The value of a key as text. */
  public String get(String key) {
    synchronized (lock) {
      SWIGTYPE_p_memtx_config h = handle();
      return Out.text(slot -> MemtxNative.memtx_config_get(h, key, slot));
    }
  }

  /** Checks everything model creation and training would refuse before reading data. */
  public void validate() {
    synchronized (lock) {
      MemtxException.check(MemtxNative.memtx_config_validate(handle()));
    }
  }

  /** The whole configuration as YAML (asJson false) or JSON. */
  public String dump(boolean asJson) {
    synchronized (lock) {
      SWIGTYPE_p_memtx_config h = handle();
      return Out.text(slot -> MemtxNative.memtx_config_dump(h, asJson ? 1 : 0, slot));
    }
  }

  @Override
  void checkClosable() {
    if (training == Thread.currentThread())
      throw MemtxException.invalid("Config is in use by a training run; close it after train returns");
  }

  @Override
  void free() {
    MemtxNative.memtx_config_free(handle);
    handle = null;
  }
}
