package dev.forecaster.trainer;

import dev.forecaster.avro.Evaluation;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Live accuracy of one model name, per version, over its last K evaluations of the model's first
 * horizon (the one its backtest MAE is of); it reports drift when the live MAE of a version exceeds
 * that version's backtest MAE by more than a margin. Thread-safe: the evaluations follower records
 * while the service checks.
 */
public final class DriftMonitor {

  /**
   * @param window evaluations of a version the live MAE is taken over (K); no verdict before K
   * @param margin relative excess that counts as drift: live MAE &gt; backtest MAE x (1 + margin)
   * @param cooldown least time between two drift-triggered rounds
   */
  public record Policy(int window, double margin, Duration cooldown) {
    public Policy {
      if (window < 1) {
        throw new IllegalArgumentException(
            "the drift window must hold at least one evaluation, got " + window);
      }
      if (!(margin >= 0)) {
        throw new IllegalArgumentException("the drift margin must be 0 or more, got " + margin);
      }
    }
  }

  /** A version whose live error is too far above its backtest. */
  public record Drift(
      String modelName,
      long version,
      int evaluations,
      double liveMae,
      double backtestMae,
      double persistenceMae) {
    public String describe() {
      return String.format(
          "live MAE %.4f of %s v%d over its last %d evaluations exceeds its backtest MAE %.4f "
              + "(persistence on the same days %.4f)",
          liveMae, modelName, version, evaluations, backtestMae, persistenceMae);
    }
  }

  private final String modelName;
  private final int horizon;
  private final Policy policy;

  /**
   * Per version: the last K absolute errors of the model and of persistence (NaN where unknown).
   */
  private final Map<Long, ArrayDeque<double[]>> recent = new HashMap<>();

  /** A monitor of a model whose first forecast is one reading ahead. */
  public DriftMonitor(String modelName, Policy policy) {
    this(modelName, 1, policy);
  }

  /**
   * @param horizon the model's first horizon: evaluations of later ones (larger errors, no backtest
   *     MAE of their own here) are not kept
   */
  public DriftMonitor(String modelName, int horizon, Policy policy) {
    this.modelName = modelName;
    this.horizon = horizon;
    this.policy = policy;
  }

  /**
   * Keeps an evaluation of this monitor's model; others are ignored. Returns whether it was kept.
   */
  public synchronized boolean record(Evaluation e) {
    if (!modelName.equals(e.getModelName())
        || e.getHorizon() != horizon
        || !Double.isFinite(e.getError())) {
      return false;
    }
    ArrayDeque<double[]> q = recent.computeIfAbsent(e.getModelVersion(), v -> new ArrayDeque<>());
    Double persistence = e.getPersistenceError();
    q.addLast(
        new double[] {
          Math.abs(e.getError()), persistence == null ? Double.NaN : Math.abs(persistence)
        });
    while (q.size() > policy.window()) {
      q.removeFirst();
    }
    return true;
  }

  /** The newest version that has evaluations, if any. */
  public synchronized Optional<Long> newestVersion() {
    return recent.keySet().stream().max(Long::compare);
  }

  /** Live MAE of a version over its kept evaluations (fewer than K before it has K). */
  public synchronized OptionalDouble liveMae(long version) {
    ArrayDeque<double[]> q = recent.get(version);
    return q == null || q.isEmpty()
        ? OptionalDouble.empty()
        : q.stream().mapToDouble(x -> x[0]).average();
  }

  /** Drift of {@code version} against its backtest MAE, once it has K evaluations. */
  public synchronized Optional<Drift> check(long version, double backtestMae) {
    ArrayDeque<double[]> q = recent.get(version);
    if (q == null || q.size() < policy.window() || !Double.isFinite(backtestMae)) {
      return Optional.empty();
    }
    double live = q.stream().mapToDouble(x -> x[0]).average().orElse(Double.NaN);
    if (!(live > backtestMae * (1 + policy.margin()))) {
      return Optional.empty();
    }
    double persistence =
        q.stream().mapToDouble(x -> x[1]).filter(Double::isFinite).average().orElse(Double.NaN);
    return Optional.of(new Drift(modelName, version, q.size(), live, backtestMae, persistence));
  }

  /**
   * Forgets a version's evaluations: after a drift round, K new ones are needed for the next
   * verdict.
   */
  public synchronized void reset(long version) {
    recent.remove(version);
  }
}
