/* Context.java: a memtx context (memtx_context): the plugin registry and log level that configs and models are
 * made in. Closing it closes its configs and models first. */
package org.memtx;

import java.nio.file.Path;

/** The plugin registry. Thread-safe; close it (try-with-resources) when done. */
public final class Context extends NativeResource {
  private SWIGTYPE_p_memtx_context handle;

  /** A context with the default plugins loaded (beside libmemtx, the build tree's, MEMTX_PLUGIN_PATH's) and log level 1. */
  public Context() {
    this(true, 1);
  }

  /**
   * @param loadDefaultPlugins load the plugins found beside libmemtx, in the build tree and in MEMTX_PLUGIN_PATH
   * @param logLevel 0 quiet, 1 warnings, 2 info (training progress lines), 3 debug; lines go to stderr
   */
  public Context(boolean loadDefaultPlugins, int logLevel) {
    super("Context", null, new Object());
    memtx_context_options options = MemtxNative.memtx_context_options_new();
    if (options == null) throw new MemtxException(StatusCode.OUT_OF_MEMORY, "no memory for context options");
    try {
      options.setLoad_default_plugins(loadDefaultPlugins ? 1 : 0);
      options.setLog_level(logLevel);
      handle = Out.context(slot -> MemtxNative.memtx_context_create(options, slot));
    } finally {
      MemtxNative.memtx_context_options_free(options);
    }
  }

  /** The handle, for calls made under the lock. */
  SWIGTYPE_p_memtx_context handle() {
    requireOpen();
    return handle;
  }

  public void setLogLevel(int logLevel) {
    synchronized (lock) {
      MemtxNative.memtx_context_set_log_level(handle(), logLevel);
    }
  }

  /** Loads one plugin file (codes NOT_FOUND, PLUGIN, ABI_MISMATCH, DUPLICATE). */
  public void loadPlugin(Path file) {
    synchronized (lock) {
      MemtxException.check(MemtxNative.memtx_plugin_load(handle(), file.toString()));
    }
  }

  /** Loads every shared library in a folder; throws the first failure (the others are in plugins()). */
  public void loadPluginDir(Path dir) {
    synchronized (lock) {
      MemtxException.check(MemtxNative.memtx_plugin_load_dir(handle(), dir.toString()));
    }
  }

  /** JSON: {"plugins": [...], "variants": [...], "failures": [...]} (memtx_plugin_list). */
  public String plugins() {
    synchronized (lock) {
      SWIGTYPE_p_memtx_context h = handle();
      return Out.text(slot -> MemtxNative.memtx_plugin_list(h, slot));
    }
  }

  /** JSON array of every configuration key (memtx_config_schema). */
  public String configSchema() {
    synchronized (lock) {
      SWIGTYPE_p_memtx_context h = handle();
      return Out.text(slot -> MemtxNative.memtx_config_schema(h, slot));
    }
  }

  /** Markdown reference of every configuration key (memtx_config_reference). */
  public String configReference() {
    synchronized (lock) {
      SWIGTYPE_p_memtx_context h = handle();
      return Out.text(slot -> MemtxNative.memtx_config_reference(h, slot));
    }
  }

  @Override
  void free() {
    MemtxNative.memtx_context_free(handle);
    handle = null;
  }
}
