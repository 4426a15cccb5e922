package dev.forecaster.job;

import java.util.Arrays;
import java.util.Map;

/**
 * What the evaluator keeps of one series, as one value in primitive arrays (a Flink POJO: its
 * serializer writes numbers, not Avro records with their strings): the recent readings, the
 * forecasts waiting for their actual, the newest base day seen per model version and horizon (what
 * makes a redelivered forecast a duplicate), and the time of the series' last event. Names (models,
 * targets) are kept once in {@link #names} and referred to by index.
 *
 * <p>Public fields and a no-argument constructor, as Flink's POJO serializer needs; the evaluator
 * alone changes it.
 */
public class SeriesEvaluation {

  /** Model and target names, referred to by index. */
  public String[] names = new String[0];

  /** Feature names of {@link #values}' columns. */
  public String[] features = new String[0];

  /** Days (epoch days) of the recent readings, oldest first. */
  public int[] days = new int[0];

  /** The recent readings' values, row by row ({@code days.length × features.length}; NaN: none). */
  public double[] values = new double[0];

  /** Forecasts waiting for their actual (sorted by base day at each reading). */
  public Waiting[] waiting = new Waiting[0];

  /**
   * The newest base day seen per model version and horizon, as {@code [name index, horizon, base
   * day]} and the version in {@link #seenVersions}: a forecast of that version and horizon from
   * that day or earlier is a redelivery.
   */
  public int[] seen = new int[0];

  public long[] seenVersions = new long[0];

  /** Processing time of the series' last event. */
  public long lastEventMillis;

  public SeriesEvaluation() {}

  /** A forecast waiting for its actual reading. */
  public static class Waiting {
    public int baseDay;
    public int horizon;
    public int model;
    public long version;
    public int target;
    public double value;

    /** Its intervals as (level, lower, upper) triples. */
    public double[] intervals = new double[0];

    public Waiting() {}
  }

  /** The index of {@code name} in {@link #names}, added when new. */
  int name(String name) {
    for (int i = 0; i < names.length; i++) {
      if (names[i].equals(name)) {
        return i;
      }
    }
    names = Arrays.copyOf(names, names.length + 1);
    names[names.length - 1] = name;
    return names.length - 1;
  }

  /**
   * Records that a forecast of this version and horizon from {@code baseDay} came; false when one
   * from that day or later had come already (a redelivery).
   */
  boolean firstSight(int model, long version, int horizon, int baseDay) {
    for (int i = 0; i < seenVersions.length; i++) {
      if (seen[3 * i] == model && seenVersions[i] == version && seen[3 * i + 1] == horizon) {
        if (baseDay <= seen[3 * i + 2]) {
          return false;
        }
        seen[3 * i + 2] = baseDay;
        return true;
      }
    }
    seen = Arrays.copyOf(seen, seen.length + 3);
    seen[seen.length - 3] = model;
    seen[seen.length - 2] = horizon;
    seen[seen.length - 1] = baseDay;
    seenVersions = Arrays.copyOf(seenVersions, seenVersions.length + 1);
    seenVersions[seenVersions.length - 1] = version;
    return true;
  }

  /**
   * True once a forecast from {@code baseDay} can no longer be scored, whatever comes next: its
   * base day is more than {@code maxPendingDays} before the newest reading, or readings after it
   * may have been evicted from the {@code keep} recent ones (steps could not be counted).
   */
  boolean outOfReach(int baseDay, int maxPendingDays, int keep) {
    int n = days.length;
    if (n == 0) {
      return false;
    }
    return days[n - 1] - baseDay > maxPendingDays || n >= keep && baseDay < days[0];
  }

  /** Forgets the versions and horizons whose newest base day is out of reach. */
  void forgetSeen(int maxPendingDays, int keep) {
    int kept = 0;
    for (int i = 0; i < seenVersions.length; i++) {
      if (!outOfReach(seen[3 * i + 2], maxPendingDays, keep)) {
        System.arraycopy(seen, 3 * i, seen, 3 * kept, 3);
        seenVersions[kept++] = seenVersions[i];
      }
    }
    if (kept < seenVersions.length) {
      seen = Arrays.copyOf(seen, 3 * kept);
      seenVersions = Arrays.copyOf(seenVersions, kept);
    }
  }

  /** Adds a reading (a day newer than every kept one), keeping at most {@code keep}. */
  void addReading(int day, Map<String, Double> readingFeatures, int keep) {
    for (String f : readingFeatures.keySet()) {
      if (column(f) < 0) { // a feature not seen before: a column of its own, NaN in older rows
        int width = features.length;
        double[] wider = new double[days.length * (width + 1)];
        for (int r = 0; r < days.length; r++) {
          System.arraycopy(values, r * width, wider, r * (width + 1), width);
          wider[r * (width + 1) + width] = Double.NaN;
        }
        features = Arrays.copyOf(features, width + 1);
        features[width] = f;
        values = wider;
      }
    }
    int width = features.length;
    int n = days.length;
    if (n == keep && n > 0 && day > days[n - 1]) {
      // the usual case, a full window and a newer day: shift in place, allocating nothing
      System.arraycopy(days, 1, days, 0, n - 1);
      System.arraycopy(values, width, values, 0, (n - 1) * width);
      days[n - 1] = day;
      fillRow(n - 1, readingFeatures);
      return;
    }
    double[] row = new double[width];
    for (int c = 0; c < width; c++) {
      Double v = readingFeatures.get(features[c]);
      row[c] = v == null ? Double.NaN : v;
    }
    // insert in day order (readings come in day order; a late one was dead-lettered upstream)
    int at = days.length;
    while (at > 0 && days[at - 1] > day) {
      at--;
    }
    int[] newDays = new int[days.length + 1];
    double[] newValues = new double[values.length + width];
    System.arraycopy(days, 0, newDays, 0, at);
    System.arraycopy(values, 0, newValues, 0, at * width);
    newDays[at] = day;
    System.arraycopy(row, 0, newValues, at * width, width);
    System.arraycopy(days, at, newDays, at + 1, days.length - at);
    System.arraycopy(values, at * width, newValues, (at + 1) * width, (days.length - at) * width);
    int drop = Math.max(0, newDays.length - keep);
    days = Arrays.copyOfRange(newDays, drop, newDays.length);
    values = Arrays.copyOfRange(newValues, drop * width, newValues.length);
  }

  private void fillRow(int r, Map<String, Double> readingFeatures) {
    int width = features.length;
    for (int c = 0; c < width; c++) {
      Double v = readingFeatures.get(features[c]);
      values[r * width + c] = v == null ? Double.NaN : v;
    }
  }

  /** The column of feature {@code name}, or -1. */
  int column(String name) {
    for (int c = 0; c < features.length; c++) {
      if (features[c].equals(name)) {
        return c;
      }
    }
    return -1;
  }

  /** The value of {@code feature} in recent reading {@code row}, or NaN. */
  double value(int row, String feature) {
    int c = column(feature);
    return c < 0 ? Double.NaN : values[row * features.length + c];
  }

  void addWaiting(Waiting w) {
    waiting = Arrays.copyOf(waiting, waiting.length + 1);
    waiting[waiting.length - 1] = w;
  }

  /** True when nothing but the readings is kept: no forecast waits. */
  boolean nothingWaits() {
    return waiting.length == 0;
  }
}
