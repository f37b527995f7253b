/* TrainEvent.java: what a training progress record reports (memtx_train_event). */
package org.memtx;

/** The event of a {@link TrainProgress} record. */
public enum TrainEvent {
  /** An optimizer step finished. */
  STEP,
  /** An evaluation finished (evalLoss is new). */
  EVAL,
  /** A checkpoint was written. */
  CHECKPOINT,
  /** Training ended (completed, early-stopped or cancelled). */
  DONE;

  static TrainEvent of(int value) {
    switch (value) {
      case memtx_train_event.MEMTX_EVENT_EVAL:
        return EVAL;
      case memtx_train_event.MEMTX_EVENT_CHECKPOINT:
        return CHECKPOINT;
      case memtx_train_event.MEMTX_EVENT_DONE:
        return DONE;
      default:
        return STEP;
    }
  }
}
