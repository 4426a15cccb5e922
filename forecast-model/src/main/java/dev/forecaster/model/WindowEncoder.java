package dev.forecaster.model;

import java.time.LocalDate;

/**
 * Turns a window of raw readings into network inputs, and a network output back into a value in
 * real units. The trainer and the job both go through this class, so a model sees in service
 * exactly what it saw in training.
 *
 * <p>A window is {@link ModelSpec#readingsPerWindow()} rows of raw feature values, in the spec's
 * feature order, oldest first, with the epoch day of each row.
 */
public final class WindowEncoder {

  private final ModelSpec spec;
  private final Scaling scaling;
  private final int features;
  private final int inputs;
  private final int rows;
  private final int lag;
  private final int targetIndex;

  public WindowEncoder(ModelSpec spec) {
    if (spec.scaling() == null) {
      throw new IllegalArgumentException("model " + spec.name() + " has no fitted scaling");
    }
    this.spec = spec;
    this.scaling = spec.scaling();
    this.features = spec.features().size();
    this.inputs = spec.inputsPerStep();
    this.rows = spec.readingsPerWindow();
    this.lag = spec.inputTransform().lag();
    this.targetIndex = spec.targetIndex();
  }

  /** Floats one encoded window takes: window length × inputs per step. */
  public int floatsPerWindow() {
    return spec.windowLength() * inputs;
  }

  /**
   * Writes the network input of one window into {@code out} at {@code offset}; with calendar inputs
   * it allocates a {@code LocalDate} per row, nothing else.
   *
   * @param values {@code readingsPerWindow} rows of raw feature values, oldest first
   * @param epochDays the day of each row
   */
  public void encode(double[][] values, int[] epochDays, float[] out, int offset) {
    if (values.length != rows) {
      throw new IllegalArgumentException(
          "a window has " + rows + " readings, got " + values.length);
    }
    ValueTransform transform = spec.inputTransform();
    int o = offset;
    for (int r = lag; r < rows; r++) {
      double[] row = values[r];
      double[] previous = lag > 0 ? values[r - 1] : row;
      for (int f = 0; f < features; f++) {
        out[o++] = (float) scaling.scaleInput(f, transform.apply(previous[f], row[f]));
      }
      if (spec.calendar()) {
        double angle = dayOfYearAngle(epochDays[r]);
        out[o++] = (float) Math.sin(angle);
        out[o++] = (float) Math.cos(angle);
      }
      if (spec.weekday()) {
        double angle = dayOfWeekAngle(epochDays[r]);
        out[o++] = (float) Math.sin(angle);
        out[o++] = (float) Math.cos(angle);
      }
    }
  }

  /** The raw value of the target at the window's last reading (what persistence predicts). */
  public double baseValue(double[][] values) {
    return values[rows - 1][targetIndex];
  }

  /** The scaled network target for a future raw value, given the window's base value. */
  public double networkTarget(double baseValue, double futureValue) {
    return scaling.scaleTarget(spec.targetTransform().apply(baseValue, futureValue));
  }

  /**
   * Standard deviations of the training rows' levels beyond which a level model does not forecast a
   * window lying there whole: every reading of its target that far from the training rows' mean, on
   * one side (a series that first appeared after the training period at another level), where the
   * model would forecast the levels of other series, and persistence is served instead. Fixed a
   * priori, not tuned: by Chebyshev's inequality at most 1/16 of any distribution lies that far
   * out, and a whole window of them in a row is a shift, not a spike.
   */
  public static final double LEVEL_GUARD = 4;

  /**
   * Whether a level model serves persistence for the window encoded at {@code offset} of {@code
   * encoded} ({@link #encode}): every reading of its target more than {@link #LEVEL_GUARD} standard
   * deviations from the training rows' mean, all on the same side. Only a level target read as
   * levels can be: its inputs are then the levels scaled by the training rows' mean and standard
   * deviation. A change or log-change target forecasts a step from the window's own level, at any
   * level: never.
   */
  public boolean outsideFittedLevels(float[] encoded, int offset) {
    if (spec.targetTransform() != ValueTransform.LEVEL
        || spec.inputTransform() != ValueTransform.LEVEL) {
      return false;
    }
    float first = encoded[offset + targetIndex];
    if (!(Math.abs(first) > LEVEL_GUARD)) {
      return false;
    }
    for (int r = 1; r < spec.windowLength(); r++) {
      float z = encoded[offset + r * inputs + targetIndex];
      if (!(Math.abs(z) > LEVEL_GUARD) || (z > 0) != (first > 0)) {
        return false;
      }
    }
    return true;
  }

  /** A network output back in real units, given the window's base value. */
  public double toRealUnits(double baseValue, double networkOutput) {
    return spec.targetTransform().invert(baseValue, scaling.unscaleTarget(networkOutput));
  }

  /** Angle of the day in the week, Monday 0. 1970-01-01, epoch day 0, was a Thursday. */
  static double dayOfWeekAngle(int epochDay) {
    return 2 * Math.PI * Math.floorMod(epochDay + 3, 7) / 7;
  }

  /** Angle of the day in the year, on a 365.25-day circle: the calendar input of every model. */
  public static double dayOfYearAngle(int epochDay) {
    int dayOfYear = LocalDate.ofEpochDay(epochDay).getDayOfYear();
    return 2 * Math.PI * (dayOfYear - 1) / 365.25;
  }
}
