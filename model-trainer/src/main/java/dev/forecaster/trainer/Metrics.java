package dev.forecaster.trainer;

/**
 * Point-forecast errors in real units. MAPE (percent) skips targets that are zero, where it is
 * undefined; {@code n} counts every target.
 */
public record Metrics(double mae, double rmse, double mape, int n) {

  public static Metrics of(double[] predicted, double[] actual) {
    if (predicted.length != actual.length) {
      throw new IllegalArgumentException("predictions and actuals differ in number");
    }
    double abs = 0;
    double sq = 0;
    double pct = 0;
    int pctCount = 0;
    for (int i = 0; i < actual.length; i++) {
      double e = predicted[i] - actual[i];
      abs += Math.abs(e);
      sq += e * e;
      if (Math.abs(actual[i]) > 1e-9) {
        pct += Math.abs(e / actual[i]);
        pctCount++;
      }
    }
    int n = actual.length;
    return new Metrics(
        abs / n, Math.sqrt(sq / n), pctCount == 0 ? Double.NaN : 100 * pct / pctCount, n);
  }
}
