package dev.forecaster.trainer;

/**
 * Point-forecast errors in real units. MAPE (percent) skips targets that are zero, where it is
 * undefined; sMAPE (percent, 0 to 200) is {@code 200 |e| / (|y| + |ŷ|)}, 0 where both are 0; MASE
 * divides the MAE by the in-sample MAE of persistence on the training windows (the naive scale),
 * NaN when that is not given; {@code n} counts every target.
 */
public record Metrics(double mae, double rmse, double mape, double smape, double mase, int n) {

  /** The errors without a naive scale (MASE NaN). */
  public static Metrics of(double[] predicted, double[] actual) {
    return of(predicted, actual, Double.NaN);
  }

  /**
   * @param naiveScale the MAE of persistence on the training windows, MASE's denominator
   */
  public static Metrics of(double[] predicted, double[] actual, double naiveScale) {
    if (predicted.length != actual.length) {
      throw new IllegalArgumentException("predictions and actuals differ in number");
    }
    double abs = 0;
    double sq = 0;
    double pct = 0;
    int pctCount = 0;
    double sym = 0;
    for (int i = 0; i < actual.length; i++) {
      double e = predicted[i] - actual[i];
      abs += Math.abs(e);
      sq += e * e;
      if (Math.abs(actual[i]) > 1e-9) {
        pct += Math.abs(e / actual[i]);
        pctCount++;
      }
      double denominator = Math.abs(actual[i]) + Math.abs(predicted[i]);
      sym += denominator > 0 ? 2 * Math.abs(e) / denominator : 0;
    }
    int n = actual.length;
    double mae = abs / n;
    return new Metrics(
        mae,
        Math.sqrt(sq / n),
        pctCount == 0 ? Double.NaN : 100 * pct / pctCount,
        100 * sym / n,
        naiveScale > 0 ? mae / naiveScale : Double.NaN,
        n);
  }
}
