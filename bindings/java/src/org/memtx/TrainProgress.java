/* TrainProgress.java: one training progress record (memtx_train_progress) as an immutable Java value. */
package org.memtx;

/** A snapshot of a training run (see memtx_train_progress in memtx.h). */
public final class TrainProgress {
  public final TrainEvent event;
  /** Optimizer steps completed. */
  public final long step;
  public final long totalSteps;
  /** Passes over the training data completed. */
  public final long epoch;
  public final long tokensSeen;
  /** The last step's training loss. */
  public final double loss;
  public final double learningRate;
  public final double gradNorm;
  public final double tokensPerSecond;
  /** Estimated seconds to the end; -1 when unknown. */
  public final double etaSeconds;
  /** The last evaluation loss; NaN before the first evaluation. */
  public final double evalLoss;
  public final double elapsedSeconds;

  TrainProgress(memtx_train_progress p) {
    event = TrainEvent.of(p.getEvent());
    step = p.getStep();
    totalSteps = p.getTotal_steps();
    epoch = p.getEpoch();
    tokensSeen = p.getTokens_seen();
    loss = p.getLoss();
    learningRate = p.getLearning_rate();
    gradNorm = p.getGrad_norm();
    tokensPerSecond = p.getTokens_per_second();
    etaSeconds = p.getEta_seconds();
    evalLoss = p.getEval_loss();
    elapsedSeconds = p.getElapsed_seconds();
  }

  /** The record memtx_train starts from (nothing happened yet). */
  boolean isStart() {
    return event == TrainEvent.STEP && step == 0 && elapsedSeconds == 0;
  }

  @Override
  public boolean equals(Object other) {
    if (!(other instanceof TrainProgress)) return false;
    TrainProgress o = (TrainProgress) other;
    return event == o.event && step == o.step && totalSteps == o.totalSteps && epoch == o.epoch
        && tokensSeen == o.tokensSeen && Double.compare(loss, o.loss) == 0
        && Double.compare(learningRate, o.learningRate) == 0 && Double.compare(gradNorm, o.gradNorm) == 0
        && Double.compare(tokensPerSecond, o.tokensPerSecond) == 0
        && Double.compare(etaSeconds, o.etaSeconds) == 0 && Double.compare(evalLoss, o.evalLoss) == 0
        && Double.compare(elapsedSeconds, o.elapsedSeconds) == 0;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(step) * 31 + event.hashCode() + Double.hashCode(elapsedSeconds);
  }

  @Override
  public String toString() {
    return String.format("%s step %d/%d loss %.4f lr %.3g eval_loss %.4f %.1f tok/s %.1fs", event, step, totalSteps,
        loss, learningRate, evalLoss, tokensPerSecond, elapsedSeconds);
  }
}
