package dev.forecaster.job;

import java.lang.reflect.Array;
import java.util.Arrays;
import java.util.Map;

/**
 * What the evaluator keeps of one series, as one value in primitive arrays (a Flink POJO: its
 * serializer writes numbers, not Avro records with their strings): the recent values of the series'
 * targets, the forecasts waiting for their actual, the newest base day seen per model version and
 * horizon (what makes a redelivered forecast a duplicate), and the time of the series' last event.
 * Names (models, targets) are kept once in {@link #names} and referred to by index.
 *
 * <p>Compact because every full checkpoint copies it for every series: with seven horizons 28
 * forecasts wait at any time, each kept as a base day, a horizon, a source (model, target and
 * version, shared), its value and its intervals' bounds as float offsets from the value (about 34
 * bytes with two interval levels, where an object per forecast took about 86), and of each recent
 * reading only the targets' values.
 *
 * <p>Checkpoints write it with {@link SeriesEvaluationSerializer}. Public fields and a no-argument
 * constructor, as Flink's POJO serializer needs: the builds before wrote it with that serializer,
 * and their checkpoints and savepoints restore through it. The evaluator alone changes it. Fields
 * are only ever added, so that a savepoint of an older layout restores: {@link #waiting} is the
 * layout before the compact one, moved into it on first use. A field added needs its place in the
 * serializer's {@code serialize}, {@code deserialize} and {@code copy} and a new format there (one
 * that still reads the old): a field it does not know is not checkpointed (StateSerializersTest
 * fails until it does).
 */
public class SeriesEvaluation {

  /** Model and target names, referred to by index. */
  public String[] names = new String[0];

  /**
   * Feature names of {@link #values}' columns: the targets of the series' forecasts (every feature
   * of the readings until the first forecast, which may come after its actual).
   */
  public String[] features = new String[0];

  /** Days (epoch days) of the recent readings, oldest first. */
  public int[] days = new int[0];

  /** The recent readings' values, row by row ({@code days.length × features.length}; NaN: none). */
  public double[] values = new double[0];

  /**
   * The forecasts waiting for their actual, one per index of these arrays, in (base day, horizon,
   * model, version) order: base day, horizon, source (index into {@link #sources}), the levels of
   * its intervals (bit l: {@link #levels}[l]), its value, and per interval in level order its lower
   * and upper bound less the value, as floats.
   */
  public int[] waitingDays = new int[0];

  public short[] waitingHorizons = new short[0];
  public short[] waitingSources = new short[0];
  public short[] waitingLevels = new short[0];
  public double[] waitingValues = new double[0];
  public float[] waitingBounds = new float[0];

  /**
   * What the waiting forecasts come from: {@code [model name index, target name index]} per source,
   * its version in {@link #sourceVersions}. A source no forecast refers to is dropped.
   */
  public int[] sources = new int[0];

  public long[] sourceVersions = new long[0];

  /**
   * Interval levels the waiting forecasts refer to, at most {@link #MAX_LEVELS} (every model has
   * two); a level no forecast refers to is dropped. A waiting forecast's intervals come out in this
   * table's order (usually the order the series' forecasts list them; a level dropped and seen
   * again goes last), a forecast settled at once keeps its own: read intervals by their level.
   */
  public double[] levels = new double[0];

  /**
   * The newest base day seen per model version and horizon, as {@code [name index, horizon, base
   * day]} and the version in {@link #seenVersions}: a forecast of that version and horizon from
   * that day or earlier is a redelivery.
   */
  public int[] seen = new int[0];

  public long[] seenVersions = new long[0];

  /** Processing time of the series' last event. */
  public long lastEventMillis;

  /** Whether {@link #values} keeps the targets' columns only (true from the first forecast). */
  public boolean targetsOnly;

  /** The waiting forecasts of the layout before the compact one: empty once moved. */
  public Waiting[] waiting = new Waiting[0];

  /** Interval levels a series' waiting forecasts can refer to (the bits of a short). */
  static final int MAX_LEVELS = 16;

  public SeriesEvaluation() {}

  /** A forecast waiting for its actual reading, as the layout before the compact one kept it. */
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

  /** A waiting forecast, read out of the arrays. */
  record Pending(
      int baseDay,
      int horizon,
      int model,
      long version,
      int target,
      double value,
      double[] intervals) {}

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
    if (!targetsOnly) {
      for (String f : readingFeatures.keySet()) {
        addColumn(f);
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

  /** Adds a column for feature {@code f} when it has none, NaN in the rows kept so far. */
  private void addColumn(String f) {
    if (column(f) >= 0) {
      return;
    }
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

  /**
   * Makes sure the recent readings keep the columns of these targets; the first time, drops every
   * other column (from then on readings keep the targets' values only). A later forecast of another
   * target (a model version that changed its target) finds that column empty in the readings kept
   * before it: no persistence error for its first base days, and unmatched if its actual came
   * first.
   */
  void keepTargets(String... targets) {
    if (!targetsOnly) {
      targetsOnly = true;
      int width = features.length;
      String[] kept = Arrays.stream(targets).distinct().toArray(String[]::new);
      double[] only = new double[days.length * kept.length];
      for (int k = 0; k < kept.length; k++) {
        int c = column(kept[k]);
        for (int r = 0; r < days.length; r++) {
          only[r * kept.length + k] = c < 0 ? Double.NaN : values[r * width + c];
        }
      }
      features = kept;
      values = only;
      return;
    }
    for (String target : targets) {
      addColumn(target);
    }
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

  /** Forecasts waiting for their actual. */
  int waitingCount() {
    return waitingDays.length;
  }

  int waitingBaseDay(int i) {
    return waitingDays[i];
  }

  int waitingHorizon(int i) {
    return waitingHorizons[i];
  }

  /**
   * Adds a waiting forecast in (base day, horizon, model, version) order (usually last: forecasts
   * come in that order). Its intervals are (level, lower, upper) triples; one at a level beyond the
   * series' {@link #MAX_LEVELS} distinct ones is not kept (every model has two).
   */
  void addWaiting(Pending p) {
    int source = source(p.model(), p.target(), p.version());
    double[] intervals = p.intervals();
    int mask = 0;
    for (int k = 0; k + 2 < intervals.length; k += 3) {
      int l = level(intervals[k]);
      mask |= l < 0 ? 0 : 1 << l;
    }
    int n = waitingDays.length;
    int at = n;
    while (at > 0 && comesAfter(at - 1, p)) {
      at--;
    }
    int boundsAt = at == n ? waitingBounds.length : boundsStart(at); // usually the last
    waitingDays = withGap(waitingDays, at, 1);
    waitingDays[at] = p.baseDay();
    waitingHorizons = withGap(waitingHorizons, at, 1);
    waitingHorizons[at] = (short) p.horizon();
    waitingSources = withGap(waitingSources, at, 1);
    waitingSources[at] = (short) source;
    waitingLevels = withGap(waitingLevels, at, 1);
    waitingLevels[at] = (short) mask;
    waitingValues = withGap(waitingValues, at, 1);
    waitingValues[at] = p.value();
    // the bounds in level order: the interval at level l goes after those at the lower set bits
    waitingBounds = withGap(waitingBounds, boundsAt, 2 * Integer.bitCount(mask));
    for (int k = 0; k + 2 < intervals.length; k += 3) {
      int l = level(intervals[k]);
      if (l >= 0) {
        int b = boundsAt + 2 * Integer.bitCount(mask & ((1 << l) - 1));
        waitingBounds[b] = (float) (intervals[k + 1] - p.value());
        waitingBounds[b + 1] = (float) (intervals[k + 2] - p.value());
      }
    }
  }

  /** The {@code i}-th waiting forecast. */
  Pending waitingAt(int i) {
    int source = waitingSources[i];
    int mask = waitingLevels[i] & 0xFFFF;
    double value = waitingValues[i];
    double[] intervals = new double[3 * Integer.bitCount(mask)];
    int b = boundsStart(i);
    int k = 0;
    for (int l = 0; l < MAX_LEVELS; l++) {
      if ((mask & (1 << l)) != 0) {
        intervals[k++] = levels[l];
        intervals[k++] = value + waitingBounds[b++];
        intervals[k++] = value + waitingBounds[b++];
      }
    }
    return new Pending(
        waitingDays[i],
        waitingHorizons[i],
        sources[2 * source],
        sourceVersions[source],
        sources[2 * source + 1],
        value,
        intervals);
  }

  /** Keeps the waiting forecasts whose {@code keep} is true, and the sources they refer to. */
  void retainWaiting(boolean[] keep) {
    int n = waitingDays.length;
    int kept = 0;
    int b = 0;
    int bKept = 0;
    for (int i = 0; i < n; i++) {
      int width = 2 * Integer.bitCount(waitingLevels[i] & 0xFFFF);
      if (keep[i]) {
        waitingDays[kept] = waitingDays[i];
        waitingHorizons[kept] = waitingHorizons[i];
        waitingSources[kept] = waitingSources[i];
        waitingLevels[kept] = waitingLevels[i];
        waitingValues[kept] = waitingValues[i];
        System.arraycopy(waitingBounds, b, waitingBounds, bKept, width);
        kept++;
        bKept += width;
      }
      b += width;
    }
    if (kept == n) {
      return;
    }
    waitingDays = Arrays.copyOf(waitingDays, kept);
    waitingHorizons = Arrays.copyOf(waitingHorizons, kept);
    waitingSources = Arrays.copyOf(waitingSources, kept);
    waitingLevels = Arrays.copyOf(waitingLevels, kept);
    waitingValues = Arrays.copyOf(waitingValues, kept);
    waitingBounds = Arrays.copyOf(waitingBounds, bKept);
    dropUnusedSources();
    dropUnusedLevels();
  }

  /** Moves the forecasts of the layout before the compact one ({@link #waiting}) into it. */
  void moveOlderLayout() {
    if (waiting == null || waiting.length == 0) {
      return;
    }
    Waiting[] older = waiting;
    waiting = new Waiting[0];
    keepTargets(Arrays.stream(older).map(w -> names[w.target]).toArray(String[]::new));
    for (Waiting w : older) {
      // this layout keeps horizons up to 32767, as many as the recent readings may now be;
      // a forecast further ahead (possible only under the older, uncapped setting) is dropped
      if (w.horizon <= Short.MAX_VALUE) {
        addWaiting(
            new Pending(
                w.baseDay,
                w.horizon,
                w.model,
                w.version,
                w.target,
                w.value,
                asKept(w.value, w.intervals)));
      }
    }
  }

  /**
   * Intervals (level, lower, upper triples) as the series keeps them: each bound at float precision
   * of its distance from the value (about seven significant digits of it). Every evaluation reports
   * its bounds this way, whether its forecast waited or not.
   */
  static double[] asKept(double value, double[] intervals) {
    double[] kept = intervals.clone();
    for (int k = 0; k + 2 < kept.length; k += 3) {
      kept[k + 1] = value + (float) (kept[k + 1] - value);
      kept[k + 2] = value + (float) (kept[k + 2] - value);
    }
    return kept;
  }

  private boolean comesAfter(int i, Pending p) {
    if (waitingDays[i] != p.baseDay()) {
      return waitingDays[i] > p.baseDay();
    }
    if (waitingHorizons[i] != p.horizon()) {
      return waitingHorizons[i] > p.horizon();
    }
    int source = waitingSources[i];
    if (sources[2 * source] != p.model()) {
      return sources[2 * source] > p.model();
    }
    return sourceVersions[source] > p.version();
  }

  /** Where the {@code i}-th waiting forecast's bounds start in {@link #waitingBounds}. */
  private int boundsStart(int i) {
    int b = 0;
    for (int k = 0; k < i; k++) {
      b += 2 * Integer.bitCount(waitingLevels[k] & 0xFFFF);
    }
    return b;
  }

  /** The index of this model, target and version in {@link #sources}, added when new. */
  private int source(int model, int target, long version) {
    for (int s = 0; s < sourceVersions.length; s++) {
      if (sources[2 * s] == model && sources[2 * s + 1] == target && sourceVersions[s] == version) {
        return s;
      }
    }
    sources = Arrays.copyOf(sources, sources.length + 2);
    sources[sources.length - 2] = model;
    sources[sources.length - 1] = target;
    sourceVersions = Arrays.copyOf(sourceVersions, sourceVersions.length + 1);
    sourceVersions[sourceVersions.length - 1] = version;
    return sourceVersions.length - 1;
  }

  /** The index of {@code level} in {@link #levels}, added when new; -1 when the table is full. */
  private int level(double level) {
    for (int l = 0; l < levels.length; l++) {
      if (levels[l] == level) {
        return l;
      }
    }
    if (levels.length == MAX_LEVELS) {
      return -1;
    }
    levels = Arrays.copyOf(levels, levels.length + 1);
    levels[levels.length - 1] = level;
    return levels.length - 1;
  }

  private void dropUnusedSources() {
    int count = sourceVersions.length;
    int[] renumbered = new int[count];
    Arrays.fill(renumbered, -1);
    for (short s : waitingSources) {
      renumbered[s] = 0;
    }
    int kept = 0;
    for (int s = 0; s < count; s++) {
      if (renumbered[s] == 0) {
        sources[2 * kept] = sources[2 * s];
        sources[2 * kept + 1] = sources[2 * s + 1];
        sourceVersions[kept] = sourceVersions[s];
        renumbered[s] = kept++;
      }
    }
    if (kept == count) {
      return;
    }
    for (int i = 0; i < waitingSources.length; i++) {
      waitingSources[i] = (short) renumbered[waitingSources[i]];
    }
    sources = Arrays.copyOf(sources, 2 * kept);
    sourceVersions = Arrays.copyOf(sourceVersions, kept);
  }

  /** Drops the levels no waiting forecast refers to; the masks' bits move down with them. */
  private void dropUnusedLevels() {
    int used = 0;
    for (short mask : waitingLevels) {
      used |= mask & 0xFFFF;
    }
    if (used == (1 << levels.length) - 1) {
      return;
    }
    int[] renumbered = new int[levels.length];
    int kept = 0;
    for (int l = 0; l < levels.length; l++) {
      if ((used & (1 << l)) != 0) {
        levels[kept] = levels[l];
        renumbered[l] = kept++;
      }
    }
    levels = Arrays.copyOf(levels, kept);
    for (int i = 0; i < waitingLevels.length; i++) {
      int mask = waitingLevels[i] & 0xFFFF;
      int moved = 0;
      for (int l = 0; l < renumbered.length; l++) {
        if ((mask & (1 << l)) != 0) {
          moved |= 1 << renumbered[l];
        }
      }
      waitingLevels[i] = (short) moved;
    }
  }

  /** A copy of {@code array} (an array of any type) with {@code gap} new slots at {@code at}. */
  @SuppressWarnings("unchecked")
  private static <A> A withGap(A array, int at, int gap) {
    if (gap == 0) {
      return array;
    }
    int n = Array.getLength(array);
    A wider = (A) Array.newInstance(array.getClass().getComponentType(), n + gap);
    System.arraycopy(array, 0, wider, 0, at);
    System.arraycopy(array, at, wider, at + gap, n - at);
    return wider;
  }
}
