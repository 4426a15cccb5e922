package dev.forecaster.trainer;

import dev.forecaster.model.IntervalBand;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Split conformal prediction intervals: the residuals (actual − forecast) of windows the model was
 * not fitted on, in real units, give each level's lower and upper offsets as their empirical
 * quantiles with the finite-sample correction (the ⌈(n+1)(1+level)/2⌉-th smallest for the upper
 * bound, the ⌊(n+1)(1−level)/2⌋-th for the lower). If those windows are exchangeable with future
 * ones, a central interval covers the actual with probability at least its level. The offsets are
 * additive: the same width whatever the forecast's level, which is what the validation residuals of
 * a stationary error say; a series whose errors grow with its level gets too narrow intervals where
 * it is high (the live coverage shows it).
 */
final class Conformal {

  /** The levels every model is calibrated at. */
  static final List<Double> LEVELS = List.of(0.8, 0.95);

  /** Residuals needed for the outermost level's bounds to be order statistics at all. */
  static final int MIN_RESIDUALS = 40;

  private Conformal() {}

  /**
   * The bands at {@link #LEVELS} from forecasts and actuals of windows the model did not train on;
   * none when there are fewer than {@link #MIN_RESIDUALS}.
   */
  static List<IntervalBand> calibrate(double[] predicted, double[] actual) {
    int n = predicted.length;
    if (n < MIN_RESIDUALS) {
      return List.of();
    }
    double[] residuals = new double[n];
    for (int i = 0; i < n; i++) {
      residuals[i] = actual[i] - predicted[i];
    }
    Arrays.sort(residuals);
    return LEVELS.stream()
        .map(
            level -> {
              // 1e-9: (n + 1) * (1 - 0.8) / 2 is 9.999... in doubles for n = 99, not 10
              int lower = (int) Math.floor((n + 1) * (1 - level) / 2 + 1e-9);
              int upper = (int) Math.ceil((n + 1) * (1 + level) / 2 - 1e-9);
              return new IntervalBand(
                  level, residuals[Math.max(lower, 1) - 1], residuals[Math.min(upper, n) - 1]);
            })
        .toList();
  }

  /** Counts of actuals inside each band, by level, in band order. */
  static Map<Double, long[]> hits(List<IntervalBand> bands, double[] predicted, double[] actual) {
    Map<Double, long[]> hits = new LinkedHashMap<>();
    for (IntervalBand band : bands) {
      long inside = 0;
      for (int i = 0; i < predicted.length; i++) {
        if (band.covers(predicted[i], actual[i])) {
          inside++;
        }
      }
      hits.put(band.level(), new long[] {inside, predicted.length});
    }
    return hits;
  }

  /** Fractions inside, by level, of counts pooled over parts. */
  static Map<Double, Double> coverage(List<Map<Double, long[]>> parts) {
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
}
