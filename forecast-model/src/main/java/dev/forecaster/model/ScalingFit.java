package dev.forecaster.model;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Fits the scaling of a spec on training windows only: their rows once each, and their targets. */
public final class ScalingFit {

  private ScalingFit() {}

  public static Scaling fit(ModelSpec spec, List<Sample> train) {
    int features = spec.features().size();
    ValueTransform inputs = spec.inputTransform();
    int lag = inputs.lag();
    double[] sum = new double[features];
    double[] sumSq = new double[features];
    long count = 0;
    Set<String> seen = new HashSet<>();
    // Welford would be steadier; these magnitudes (prices, volumes) are fine with a shifted sum.
    double[] shift = null;
    for (Sample s : train) {
      for (int r = lag; r < s.values().length; r++) {
        if (!seen.add(s.seriesId() + '@' + s.epochDays()[r])) {
          continue; // a row appears in many windows: count it once
        }
        double[] row = s.values()[r];
        double[] prev = lag > 0 ? s.values()[r - 1] : row;
        if (shift == null) {
          shift = new double[features];
          for (int f = 0; f < features; f++) {
            shift[f] = inputs.apply(prev[f], row[f]);
          }
        }
        for (int f = 0; f < features; f++) {
          double v = inputs.apply(prev[f], row[f]) - shift[f];
          sum[f] += v;
          sumSq[f] += v * v;
        }
        count++;
      }
    }
    double[] mean = new double[features];
    double[] std = new double[features];
    for (int f = 0; f < features; f++) {
      double m = sum[f] / count;
      mean[f] = m + shift[f];
      std[f] = Scaling.safeStd(Math.max(0, sumSq[f] - count * m * m), count);
    }
    double tSum = 0;
    double tSumSq = 0;
    for (Sample s : train) {
      double t = spec.targetTransform().apply(s.baseValue(), s.actual());
      tSum += t;
      tSumSq += t * t;
    }
    double tMean = tSum / train.size();
    double tStd = Scaling.safeStd(Math.max(0, tSumSq - train.size() * tMean * tMean), train.size());
    return new Scaling(mean, std, tMean, tStd);
  }
}
