package dev.forecaster.model;

import java.util.Arrays;

/**
 * Standardisation of every network input and of the network's target, fitted on training rows only.
 * A constant column gets std 1 so that it scales to 0 instead of dividing by zero.
 */
public record Scaling(double[] inputMean, double[] inputStd, double targetMean, double targetStd) {

  public Scaling {
    if (inputMean.length != inputStd.length) {
      throw new IllegalArgumentException("scaler means and stds differ in length");
    }
    for (double s : inputStd) {
      if (!(s > 0) || !Double.isFinite(s)) {
        throw new IllegalArgumentException(
            "scaler std must be positive and finite: " + Arrays.toString(inputStd));
      }
    }
    if (!(targetStd > 0) || !Double.isFinite(targetStd)) {
      throw new IllegalArgumentException("target std must be positive and finite: " + targetStd);
    }
    inputMean = inputMean.clone();
    inputStd = inputStd.clone();
  }

  @Override
  public double[] inputMean() {
    return inputMean.clone();
  }

  @Override
  public double[] inputStd() {
    return inputStd.clone();
  }

  double scaleInput(int column, double value) {
    return (value - inputMean[column]) / inputStd[column];
  }

  double unscaleTarget(double scaled) {
    return scaled * targetStd + targetMean;
  }

  public double scaleTarget(double value) {
    return (value - targetMean) / targetStd;
  }

  /** A std that is safe to divide by: population std, or 1 for a constant column. */
  public static double safeStd(double sumSquaredDeviations, long count) {
    double std = count > 0 ? Math.sqrt(sumSquaredDeviations / count) : 0;
    return std > 1e-12 && Double.isFinite(std) ? std : 1.0;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Scaling s
        && Arrays.equals(inputMean, s.inputMean)
        && Arrays.equals(inputStd, s.inputStd)
        && Double.compare(targetMean, s.targetMean) == 0
        && Double.compare(targetStd, s.targetStd) == 0;
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(inputMean)
        + Arrays.hashCode(inputStd)
        + Double.hashCode(targetMean);
  }

  @Override
  public String toString() {
    return "Scaling{mean="
        + Arrays.toString(inputMean)
        + ", std="
        + Arrays.toString(inputStd)
        + ", target="
        + targetMean
        + "±"
        + targetStd
        + '}';
  }
}
