package dev.forecaster.trainer;

import dev.forecaster.avro.Reading;
import dev.forecaster.model.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Cuts a history into windows for a spec: consecutive readings of one series, never across series. */
public final class Samples {

  private Samples() {}

  /**
   * Every window of every series with its target, ordered by series then day. A reading that
   * lacks a feature the spec reads cannot be in a window: it is an error, named.
   */
  public static List<Sample> of(History history, ModelSpec spec) {
    int rows = spec.readingsPerWindow();
    int horizon = spec.horizon();
    List<String> features = spec.features();
    int target = spec.targetIndex();
    List<Sample> samples = new ArrayList<>();
    for (Map.Entry<String, List<Reading>> series : history.bySeries().entrySet()) {
      List<Reading> readings = series.getValue();
      double[][] values = new double[readings.size()][];
      int[] days = new int[readings.size()];
      for (int i = 0; i < readings.size(); i++) {
        values[i] = row(readings.get(i), features);
        days[i] = (int) readings.get(i).getDay().toEpochDay();
      }
      for (int base = rows - 1; base + horizon < readings.size(); base++) {
        int from = base - rows + 1;
        double[][] window = new double[rows][];
        int[] windowDays = new int[rows];
        System.arraycopy(values, from, window, 0, rows);
        System.arraycopy(days, from, windowDays, 0, rows);
        samples.add(new Sample(series.getKey(), readings.get(base).getDay(), readings.get(base + horizon).getDay(),
            window, windowDays, values[base][target], values[base + horizon][target]));
      }
    }
    return samples;
  }

  private static double[] row(Reading reading, List<String> features) {
    double[] row = new double[features.size()];
    for (int f = 0; f < row.length; f++) {
      Double v = reading.getFeatures().get(features.get(f));
      if (v == null) {
        throw new IllegalArgumentException(
            "reading " + reading.getSeriesId() + " " + reading.getDay() + " has no feature '" + features.get(f) + "'");
      }
      row[f] = v;
    }
    return row;
  }
}
