package dev.forecaster.trainer;

import dev.forecaster.avro.Reading;
import dev.forecaster.model.History;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.Sample;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.commons.math3.stat.correlation.PearsonsCorrelation;

/** The forecasts a model must beat, on exactly the windows it is scored on. */
public final class Baselines {

  private Baselines() {}

  /** Tomorrow = today: the target's value at each window's last reading. */
  public static double[] persistence(List<Sample> samples) {
    return samples.stream().mapToDouble(Sample::baseValue).toArray();
  }

  /**
   * Ordinary least squares on the flattened window, fitted on {@code train} (in a backtest, every
   * window before the test part): the same inputs, transforms and scaling as the network, so the
   * comparison is about the network alone.
   */
  public static double[] linear(ModelSpec spec, List<Sample> train, List<Sample> test) {
    return LinearFit.fit(spec, train, LinearFit.OLS).predict(test);
  }

  /** Days of a weekly season. */
  static final int WEEK = 7;

  /** Days of a yearly season. */
  static final int YEAR = 365;

  /**
   * The season of the target in the history before {@code before}, in days: 7 when day-to-day
   * changes repeat a week later (correlation above 0.2), else 365 when 30-day changes repeat a year
   * later (above 0.3, with at least a year of pairs), else 0. Changes rather than levels, so that a
   * trend is not taken for a season.
   */
  static int season(History history, String target, LocalDate before) {
    Map<String, TreeMap<Integer, Double>> series = values(history, target, before);
    if (correlation(series, 1, WEEK) > 0.2) {
      return WEEK;
    }
    if (pairs(series, 30, YEAR) >= YEAR && correlation(series, 30, YEAR) > 0.3) {
      return YEAR;
    }
    return 0;
  }

  /**
   * The target's value {@code season} days before each window's target day (or the last reading
   * before that day; persistence where there is none).
   */
  static double[] seasonalNaive(History history, String target, List<Sample> samples, int season) {
    Map<String, TreeMap<Integer, Double>> series = values(history, target, null);
    double[] predicted = new double[samples.size()];
    for (int i = 0; i < predicted.length; i++) {
      Sample s = samples.get(i);
      TreeMap<Integer, Double> days = series.get(s.seriesId());
      Map.Entry<Integer, Double> then =
          days == null ? null : days.floorEntry((int) s.targetDay().toEpochDay() - season);
      predicted[i] = then == null ? s.baseValue() : then.getValue();
    }
    return predicted;
  }

  private static Map<String, TreeMap<Integer, Double>> values(
      History history, String target, LocalDate before) {
    Map<String, TreeMap<Integer, Double>> out = new HashMap<>();
    history
        .bySeries()
        .forEach(
            (id, readings) -> {
              TreeMap<Integer, Double> days = new TreeMap<>();
              for (Reading r : readings) {
                Double v = r.getFeatures().get(target);
                if (v != null && (before == null || r.getDay().isBefore(before))) {
                  days.put((int) r.getDay().toEpochDay(), v);
                }
              }
              out.put(id, days);
            });
    return out;
  }

  /** Pairs of {@code span}-day changes {@code lag} days apart. */
  private static int pairs(Map<String, TreeMap<Integer, Double>> series, int span, int lag) {
    int n = 0;
    for (TreeMap<Integer, Double> days : series.values()) {
      for (int d : days.keySet()) {
        if (days.containsKey(d - span)
            && days.containsKey(d - lag)
            && days.containsKey(d - lag - span)) {
          n++;
        }
      }
    }
    return n;
  }

  /** Correlation of {@code span}-day changes with the same changes {@code lag} days earlier. */
  private static double correlation(
      Map<String, TreeMap<Integer, Double>> series, int span, int lag) {
    PearsonsCorrelation pearson = new PearsonsCorrelation();
    List<Double> now = new ArrayList<>();
    List<Double> then = new ArrayList<>();
    for (TreeMap<Integer, Double> days : series.values()) {
      for (Map.Entry<Integer, Double> e : days.entrySet()) {
        int d = e.getKey();
        Double a = days.get(d - span);
        Double b = days.get(d - lag);
        Double c = days.get(d - lag - span);
        if (a != null && b != null && c != null) {
          now.add(e.getValue() - a);
          then.add(b - c);
        }
      }
    }
    if (now.size() < 30) {
      return 0;
    }
    double r =
        pearson.correlation(
            now.stream().mapToDouble(Double::doubleValue).toArray(),
            then.stream().mapToDouble(Double::doubleValue).toArray());
    return Double.isNaN(r) ? 0 : r;
  }
}
