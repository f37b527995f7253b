/* ProgressListener.java: the callback Model.train delivers training progress to. */
package org.memtx;

/**
 * Receives training progress on the thread that called {@link Model#train}. Records are polled
 * (memtx_train_poll), so a listener sees the latest state at each poll: every event of a slow step, and possibly
 * not every step of fast ones; the last record of a run is its DONE event. From a listener, call
 * {@link Model#cancel()} to stop the run; other calls on the training model or its config throw MemtxException.
 * An exception thrown by the listener cancels the run and is rethrown by train.
 */
@FunctionalInterface
public interface ProgressListener {
  void onProgress(TrainProgress progress);
}
