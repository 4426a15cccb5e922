package dev.forecaster.model;

import dev.forecaster.avro.Reading;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Cuts a history into a model's windows by the {@link WindowPolicy}: consecutive readings of one
 * series, never across series, a gap the policy does not span, or a change of feature names; days
 * carried forward over a gap fill windows as they do in the job. Each window ends at a real reading
 * (the job forecasts only when one arrives) and its target is the {@code horizon}-th real reading
 * after it within the same run of readings.
 */
public final class Samples {

  private Samples() {}

  /** The windows of every series under the default policy, ordered by series then day. */
  public static List<Sample> of(History history, ModelSpec spec) {
    return of(history, spec, WindowPolicy.DEFAULT);
  }

  /**
   * The windows of every series, ordered by series then day. A series (or a run of it) whose
   * readings lack a feature the spec reads gives none, as the job scores none.
   */
  public static List<Sample> of(History history, ModelSpec spec, WindowPolicy policy) {
    List<Sample> samples = new ArrayList<>();
    for (Map.Entry<String, List<Reading>> series : history.bySeries().entrySet()) {
      for (Run run : runs(series.getValue(), policy, spec.readingsPerWindow())) {
        run.cut(series.getKey(), spec, samples);
      }
    }
    return samples;
  }

  /** A model's input window of one series, ending at a real reading of {@code baseDay}. */
  public record Window(String seriesId, LocalDate baseDay, int[] epochDays, double[][] values) {}

  /**
   * Every window the model reads, whether or not its target is known yet: what the job would score
   * when each reading arrives. Ordered by series then day.
   */
  public static List<Window> windows(History history, ModelSpec spec, WindowPolicy policy) {
    List<Window> windows = new ArrayList<>();
    for (Map.Entry<String, List<Reading>> series : history.bySeries().entrySet()) {
      for (Run run : runs(series.getValue(), policy, spec.readingsPerWindow())) {
        run.windows(series.getKey(), spec, windows);
      }
    }
    return windows;
  }

  /**
   * The runs of a series' readings that windows may span, as the job's window of {@code capacity}
   * readings would hold them.
   */
  static List<Run> runs(List<Reading> readings, WindowPolicy policy, int capacity) {
    List<Run> runs = new ArrayList<>();
    Run run = null;
    for (Reading r : readings) {
      int day = (int) r.getDay().toEpochDay();
      Set<String> names = r.getFeatures().keySet();
      if (run != null) {
        switch (policy.join(run.lastDay(), day, run.names.equals(names))) {
          case CONTINUE -> {}
          case RESET_AFTER_GAP, RESET_NEW_FEATURES -> run = null;
          case CARRY_FORWARD -> {
            Reading last = run.readings.get(run.readings.size() - 1);
            for (int d = WindowPolicy.firstCarriedDay(run.lastDay(), day, capacity); d < day; d++) {
              run.add(last, d, true);
            }
          }
        }
      }
      if (run == null) {
        run = new Run(names);
        runs.add(run);
      }
      run.add(r, day, false);
    }
    return runs;
  }

  /** Consecutive rows of one series with the same feature names; carried rows repeat a reading. */
  static final class Run {
    final Set<String> names;
    final List<Reading> readings = new ArrayList<>();
    final List<Integer> days = new ArrayList<>();
    final List<Boolean> carried = new ArrayList<>();

    Run(Set<String> names) {
      this.names = Set.copyOf(names);
    }

    void add(Reading r, int day, boolean carriedForward) {
      readings.add(r);
      days.add(day);
      carried.add(carriedForward);
    }

    int lastDay() {
      return days.get(days.size() - 1);
    }

    /** The samples of this run: each window with the target {@code horizon} readings on. */
    void cut(String seriesId, ModelSpec spec, List<Sample> out) {
      int target = spec.targetIndex();
      forEachWindow(
          spec,
          (base, window, windowDays) -> {
            int actual = stepsAfter(base, spec.horizon());
            if (actual >= 0) {
              out.add(
                  new Sample(
                      seriesId,
                      LocalDate.ofEpochDay(days.get(base)),
                      LocalDate.ofEpochDay(days.get(actual)),
                      window,
                      windowDays,
                      window[window.length - 1][target],
                      readings.get(actual).getFeatures().get(spec.target())));
            }
          });
    }

    void windows(String seriesId, ModelSpec spec, List<Window> out) {
      forEachWindow(
          spec,
          (base, window, windowDays) ->
              out.add(
                  new Window(seriesId, LocalDate.ofEpochDay(days.get(base)), windowDays, window)));
    }

    /** Every window of the spec's length that ends at a real reading of this run. */
    private void forEachWindow(ModelSpec spec, WindowConsumer consumer) {
      if (!names.containsAll(spec.features())) {
        return;
      }
      int rows = spec.readingsPerWindow();
      double[][] values = new double[readings.size()][];
      for (int i = 0; i < values.length; i++) {
        values[i] = row(readings.get(i), spec.features());
      }
      for (int base = rows - 1; base < values.length; base++) {
        if (carried.get(base)) {
          continue; // the job forecasts when a reading arrives, never on a carried day
        }
        double[][] window = new double[rows][];
        int[] windowDays = new int[rows];
        for (int r = 0; r < rows; r++) {
          window[r] = values[base - rows + 1 + r];
          windowDays[r] = days.get(base - rows + 1 + r);
        }
        consumer.accept(base, window, windowDays);
      }
    }

    /** Index of the {@code steps}-th real reading after {@code index}, or -1. */
    private int stepsAfter(int index, int steps) {
      int seen = 0;
      for (int i = index + 1; i < days.size(); i++) {
        if (!carried.get(i) && ++seen == steps) {
          return i;
        }
      }
      return -1;
    }
  }

  @FunctionalInterface
  private interface WindowConsumer {
    void accept(int base, double[][] window, int[] epochDays);
  }

  private static double[] row(Reading reading, List<String> features) {
    double[] row = new double[features.size()];
    for (int f = 0; f < row.length; f++) {
      row[f] = reading.getFeatures().get(features.get(f));
    }
    return row;
  }
}
