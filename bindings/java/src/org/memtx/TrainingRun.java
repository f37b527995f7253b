/* TrainingRun.java: one Model.train call: memtx_train runs on a worker thread while the calling thread polls
 * memtx_train_poll, hands each new record to the listener, and forwards cancellation (Model.cancel, close,
 * an interrupt, a throwing listener) with memtx_cancel until the worker ends. No C code calls into the JVM. */
package org.memtx;

import java.util.function.BooleanSupplier;

final class TrainingRun {
  private static final long POLL_MILLIS = 10;

  private final SWIGTYPE_p_memtx_model model;
  private final SWIGTYPE_p_memtx_config config;
  private final ProgressListener listener;
  private final BooleanSupplier stopRequested;
  private volatile SWIGTYPE_p_memtx_status status;
  private volatile Throwable workerFailure;

  TrainingRun(SWIGTYPE_p_memtx_model model, SWIGTYPE_p_memtx_config config, ProgressListener listener,
      BooleanSupplier stopRequested) {
    this.model = model;
    this.config = config;
    this.listener = listener;
    this.stopRequested = stopRequested;
  }

  /** The model's latest progress record. */
  static TrainProgress poll(SWIGTYPE_p_memtx_model model) {
    memtx_train_progress raw = new memtx_train_progress();
    try {
      MemtxException.check(MemtxNative.memtx_train_poll(model, raw));
      return new TrainProgress(raw);
    } finally {
      raw.delete();
    }
  }

  /** Trains until memtx_train returns; throws its failure, or the listener's. */
  void run() {
    TrainProgress last = poll(model); // the previous run's record: not delivered again
    Thread worker = new Thread(() -> {
      try {
        status = MemtxNative.memtx_train(model, config);
      } catch (Throwable t) {
        workerFailure = t;
      }
    }, "memtx-train");
    worker.setDaemon(true);
    worker.start();
    Throwable listenerFailure = null;
    boolean interrupted = false;
    while (worker.isAlive()) {
      try {
        worker.join(POLL_MILLIS);
      } catch (InterruptedException e) {
        interrupted = true;
      }
      if (interrupted || listenerFailure != null || stopRequested.getAsBoolean()) {
        // memtx_train clears the flag when it starts: repeat the request until the worker ends.
        MemtxNative.memtx_cancel(model);
      }
      TrainProgress now = poll(model);
      if (listenerFailure == null && !now.equals(last) && !now.isStart()) {
        last = now;
        listenerFailure = deliver(now);
      }
    }
    if (listenerFailure == null) {
      TrainProgress now = poll(model);
      if (!now.equals(last) && !now.isStart()) listenerFailure = deliver(now);
    }
    if (interrupted) Thread.currentThread().interrupt();
    if (workerFailure != null) {
      MemtxException.discard(status);
      throw new MemtxException(StatusCode.INTERNAL, "the training thread failed: " + workerFailure);
    }
    if (listenerFailure != null) {
      MemtxException.discard(status);
      if (listenerFailure instanceof Error) throw (Error) listenerFailure;
      throw (RuntimeException) listenerFailure;
    }
    MemtxException.check(status);
  }

  /** Hands a record to the listener; returns what it threw (unchecked only: the interface declares nothing). */
  private Throwable deliver(TrainProgress progress) {
    if (listener == null) return null;
    try {
      listener.onProgress(progress);
      return null;
    } catch (RuntimeException | Error e) {
      return e;
    }
  }
}
