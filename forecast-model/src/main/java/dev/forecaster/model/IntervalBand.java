package dev.forecaster.model;

/**
 * A central prediction interval of a model, as offsets from its point forecast in real units: the
 * actual falls in {@code [forecast + lower, forecast + upper]} with probability {@code level}.
 * Calibrated by split conformal prediction on residuals of windows the model never trained on.
 *
 * @param level nominal coverage, between 0 and 1 (exclusive)
 * @param lower offset of the lower bound (usually negative)
 * @param upper offset of the upper bound (usually positive), at least {@code lower}
 */
public record IntervalBand(double level, double lower, double upper) {

  public IntervalBand {
    if (!(level > 0 && level < 1)) {
      throw new IllegalArgumentException("an interval's level is between 0 and 1, got " + level);
    }
    if (!Double.isFinite(lower) || !Double.isFinite(upper) || lower > upper) {
      throw new IllegalArgumentException(
          "an interval needs finite bounds, lower ≤ upper; got " + lower + " .. " + upper);
    }
  }

  /** Whether {@code actual} falls inside the band around {@code forecast}, bounds included. */
  public boolean covers(double forecast, double actual) {
    return actual >= forecast + lower && actual <= forecast + upper;
  }
}
