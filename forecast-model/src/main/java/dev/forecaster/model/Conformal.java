package dev.forecaster.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Split conformal prediction intervals: residuals (actual − forecast) of windows the model was not
 * fitted on, in real units, give each level's lower and upper offsets as their empirical quantiles
 * with the finite-sample correction (the ⌈(n+1)(1+level)/2⌉-th smallest for the upper bound, the
 * ⌊(n+1)(1−level)/2⌋-th for the lower). If those windows are exchangeable with the next ones, a
 * central interval covers the actual with probability at least its level.
 *
 * <p>They rarely are for long: seasons change the size of the errors, a price's errors grow with
 * its level. So the served intervals are {@link Rolling}: calibrated on the newest {@link #ROLLING}
 * residuals, starting from the last validation residuals and moving on with every actual that
 * arrives. The offsets are additive, the same width whatever the forecast's level.
 */
public final class Conformal {

  /** The levels every model is calibrated at. */
  public static final List<Double> LEVELS = List.of(0.8, 0.95);

  /** Residuals needed for the outermost level's bounds to be order statistics at all. */
  public static final int MIN_RESIDUALS = 40;

  /**
   * Residuals a rolling calibration keeps: about four months of a daily series, half a year of a
   * trading calendar. Fixed a priori, not tuned to any test period.
   */
  public static final int ROLLING = 120;

  private Conformal() {}

  /** The bands at {@link #LEVELS}; none when there are fewer than {@link #MIN_RESIDUALS}. */
  public static List<IntervalBand> bands(double[] residuals) {
    int n = residuals.length;
    if (n < MIN_RESIDUALS) {
      return List.of();
    }
    double[] sorted = residuals.clone();
    Arrays.sort(sorted);
    return LEVELS.stream()
        .map(
            level -> {
              // 1e-9: (n + 1) * (1 - 0.8) / 2 is 9.999... in doubles for n = 99, not 10
              int lower = (int) Math.floor((n + 1) * (1 - level) / 2 + 1e-9);
              int upper = (int) Math.ceil((n + 1) * (1 + level) / 2 - 1e-9);
              return new IntervalBand(
                  level, sorted[Math.max(lower, 1) - 1], sorted[Math.min(upper, n) - 1]);
            })
        .toList();
  }

  /** Residuals actual − predicted, in order. */
  public static double[] residuals(double[] predicted, double[] actual) {
    double[] r = new double[predicted.length];
    for (int i = 0; i < r.length; i++) {
      r[i] = actual[i] - predicted[i];
    }
    return r;
  }

  /** Counts of actuals inside each band, by level, in band order: {inside, all}. */
  public static Map<Double, long[]> hits(
      List<IntervalBand> bands, double[] predicted, double[] actual) {
    Map<Double, long[]> hits = new LinkedHashMap<>();
    for (IntervalBand band : bands) {
      long[] c = hits.computeIfAbsent(band.level(), l -> new long[2]);
      for (int i = 0; i < predicted.length; i++) {
        c[0] += band.covers(predicted[i], actual[i]) ? 1 : 0;
        c[1]++;
      }
    }
    return hits;
  }

  /** Fractions inside, by level, of counts pooled over parts. */
  public static Map<Double, Double> coverage(List<Map<Double, long[]>> parts) {
    Map<Double, long[]> pooled = new LinkedHashMap<>();
    for (Map<Double, long[]> part : parts) {
      part.forEach(
          (level, c) -> {
            long[] sum = pooled.computeIfAbsent(level, l -> new long[2]);
            sum[0] += c[0];
            sum[1] += c[1];
          });
    }
    Map<Double, Double> coverage = new LinkedHashMap<>();
    pooled.forEach(
        (level, c) -> coverage.put(level, c[1] == 0 ? Double.NaN : (double) c[0] / c[1]));
    return coverage;
  }

  /**
   * Intervals calibrated on the newest {@link #ROLLING} residuals. Not thread-safe; one per scorer
   * and model version. The bands are recomputed after every tenth of the buffer's new residuals.
   */
  public static final class Rolling {
    private final double[] ring = new double[ROLLING];
    private int size;
    private int next;
    private int sinceComputed;
    private List<IntervalBand> bands = List.of();

    /** Starts from {@code seed} (oldest first; the newest {@link #ROLLING} are kept). */
    public Rolling(List<Double> seed) {
      seed.forEach(this::add);
      compute();
    }

    public void add(double residual) {
      if (!Double.isFinite(residual)) {
        return;
      }
      ring[next] = residual;
      next = (next + 1) % ROLLING;
      size = Math.min(size + 1, ROLLING);
      sinceComputed++;
    }

    /** The current bands (none until {@link #MIN_RESIDUALS} residuals are known). */
    public List<IntervalBand> bands() {
      if (sinceComputed >= ROLLING / 10) {
        compute();
      }
      return bands;
    }

    /** The residuals kept, oldest first. */
    public List<Double> residuals() {
      List<Double> out = new ArrayList<>(size);
      for (int i = 0; i < size; i++) {
        out.add(ring[(next - size + i + ROLLING) % ROLLING]);
      }
      return out;
    }

    private void compute() {
      bands = Conformal.bands(Arrays.copyOf(ring, size));
      sinceComputed = 0;
    }
  }
}
