package dev.forecaster.job;

import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.Interval;
import dev.forecaster.avro.IntervalHit;
import dev.forecaster.avro.Reading;
import dev.forecaster.schemas.ForecastIds;
import dev.forecaster.schemas.TrustedPackages;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Scores every forecast against the actual reading it targets and keeps the live accuracy of each
 * model version. One input, keyed by series id: the scorer's output in order, forecasts and the
 * actual readings that settle them (see {@link ScoredEvent}).
 *
 * <p>A forecast of horizon h from base day B targets the h-th reading of its series after B (steps,
 * not calendar days: Friday's next-day forecast of a stock meets Monday's reading). The forecast
 * may come before or after that reading, so the series keeps its last readings and the forecasts
 * still waiting for theirs. Readings are assumed to arrive in day order per series; a reading that
 * arrives late cannot change an evaluation already emitted.
 *
 * <p>Bounds: a forecast is out of reach, and dropped as expired, once its base day is more than
 * {@code maxPendingDays} before the newest reading, or once readings after its base day may have
 * been evicted from the recent ones (so the recent readings must outnumber the longest horizon).
 * Both only become true as readings advance.
 *
 * <p>Duplicates: forecasts of one model version and horizon come in base-day order (readings come
 * in day order, late ones were dead-lettered, and windows and forecasts follow them), so the series
 * keeps, per version and horizon, the newest base day seen (until it is out of reach): a forecast
 * from that day or before is a redelivery, dropped and counted ({@code redeliveredForecasts}).
 *
 * <p>A series that goes quiet keeps its state until {@code state.ttl.days} of processing time after
 * its last event (the window's rule), when a timer clears it: a delisted ticker leaves nothing
 * behind. A timer, not Flink's state TTL: on the heap backend the TTL's incremental cleanup walks
 * state entries on every access, which profiled as half of this operator's time with seven
 * horizons; one timer per series, moved forward only when it fires, costs nothing per record. Event
 * time is not used: see {@link ForecastPipeline}.
 *
 * <p>Live accuracy is kept per model version for the newest {@link #VERSIONS_KEPT} versions of each
 * model and horizon, and published as the gauges of the newest one: {@code
 * model.<name>.{version,evaluations,mae,persistenceMae,coverage80,coverage95}} for its first
 * horizon, and the same but the version under {@code model.<name>.horizon.<h>} for each.
 */
public final class ForecastEvaluator extends KeyedProcessFunction<String, ScoredEvent, Evaluation> {

  /**
   * The state name: one value per series ({@link SeriesEvaluation}). It replaced four states (the
   * readings as Avro records, the waiting forecasts, the settled ids, the last event's time): a
   * series with seven horizons held about 11 KB in them, which every full checkpoint copied.
   */
  static final String STATE = "series-evaluation";

  /** Versions of each model whose live accuracy a subtask keeps. */
  static final int VERSIONS_KEPT = 3;

  private final int recentReadings;
  private final int maxPendingDays;
  private final long ttlDays;

  private transient ValueState<SeriesEvaluation> state;

  private transient MetricGroup metrics;
  private transient Counter expired;
  private transient Counter unmatched;
  private transient Counter redelivered;
  // Per subtask and not checkpointed: after a failure the live figures start again from zero.
  private transient Map<String, ModelAccuracy> accuracy;

  /** The evaluator of a job's configuration ({@code evaluation.*}, {@code state.ttl.days}). */
  public ForecastEvaluator(JobConfig config) {
    this(config.recentReadings(), config.maxPendingDays(), config.stateTtl().toDays());
  }

  /**
   * @param recentReadings readings kept per series (at most 32767, so that a waiting forecast's
   *     horizon fits a short); must exceed the longest forecast horizon
   * @param maxPendingDays days behind the newest reading after which a waiting forecast expires
   * @param ttlDays days of processing time after which a quiet series' state is cleared
   */
  public ForecastEvaluator(int recentReadings, int maxPendingDays, long ttlDays) {
    if (recentReadings < 2 || recentReadings > Short.MAX_VALUE) {
      throw new IllegalArgumentException(
          "recentReadings must be from 2 to " + Short.MAX_VALUE + ", got " + recentReadings);
    }
    if (maxPendingDays < 1) {
      throw new IllegalArgumentException(
          "maxPendingDays must be at least 1, got " + maxPendingDays);
    }
    if (ttlDays < 1) {
      throw new IllegalArgumentException("ttlDays must be at least 1, got " + ttlDays);
    }
    this.recentReadings = recentReadings;
    this.maxPendingDays = maxPendingDays;
    this.ttlDays = ttlDays;
  }

  @Override
  public void open(OpenContext context) {
    TrustedPackages.ensureContractsTrusted();
    state =
        getRuntimeContext()
            .getState(new ValueStateDescriptor<>(STATE, SeriesEvaluationSerializer.INSTANCE));
    metrics = getRuntimeContext().getMetricGroup();
    expired = metrics.counter("expiredForecasts");
    unmatched = metrics.counter("unmatchedForecasts");
    redelivered = metrics.counter("redeliveredForecasts");
    accuracy = new HashMap<>();
  }

  @Override
  public void processElement(ScoredEvent event, Context ctx, Collector<Evaluation> out)
      throws Exception {
    long now = ctx.timerService().currentProcessingTime();
    SeriesEvaluation series = state.value();
    if (series == null) { // the series' first event (or first since it was cleared)
      series = new SeriesEvaluation();
      ctx.timerService().registerProcessingTimeTimer(now + ttlMillis());
    }
    series.lastEventMillis = now;
    series.moveOlderLayout();
    if (event.forecast != null) {
      onForecast(series, event.forecast, out);
    } else {
      onReading(series, event.actual, out);
    }
    state.update(series);
  }

  /**
   * A series' clean-up timer: its state goes if it was quiet for the TTL, else the timer moves to a
   * TTL after its last event.
   */
  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<Evaluation> out)
      throws Exception {
    SeriesEvaluation series = state.value();
    if (series == null) {
      return;
    }
    if (series.lastEventMillis + ttlMillis() <= timestamp) {
      state.clear();
    } else {
      ctx.timerService().registerProcessingTimeTimer(series.lastEventMillis + ttlMillis());
    }
  }

  private long ttlMillis() {
    return Duration.ofDays(ttlDays).toMillis();
  }

  /** The current series' state, for tests; null when it has none. */
  SeriesEvaluation currentState() throws Exception {
    return state.value();
  }

  private void onForecast(SeriesEvaluation series, Forecast forecast, Collector<Evaluation> out) {
    int model = series.name(forecast.getModelName());
    int baseDay = (int) forecast.getBaseDay().toEpochDay();
    if (!series.firstSight(model, forecast.getModelVersion(), forecast.getHorizon(), baseDay)) {
      redelivered.inc(); // see the class comment: in base-day order, so seen already
      return;
    }
    List<Interval> intervals = forecast.getIntervals();
    double[] triples = new double[3 * intervals.size()];
    for (int i = 0; i < intervals.size(); i++) {
      triples[3 * i] = intervals.get(i).getLevel();
      triples[3 * i + 1] = intervals.get(i).getLower();
      triples[3 * i + 2] = intervals.get(i).getUpper();
    }
    series.keepTargets(forecast.getTarget());
    SeriesEvaluation.Pending p =
        new SeriesEvaluation.Pending(
            baseDay,
            forecast.getHorizon(),
            model,
            forecast.getModelVersion(),
            series.name(forecast.getTarget()),
            forecast.getValue(),
            SeriesEvaluation.asKept(forecast.getValue(), triples));
    int outcome = outcome(series, baseDay, p.horizon());
    if (outcome != WAIT) {
      settle(series, forecast.getSeriesId(), p, outcome, out);
    } else if (p.horizon() > Short.MAX_VALUE) {
      expired.inc(); // further ahead than any recent readings reach: it could never be met
    } else {
      series.addWaiting(p);
    }
  }

  private void onReading(SeriesEvaluation series, Reading reading, Collector<Evaluation> out) {
    // a new day: duplicates and late days were dead-lettered upstream
    series.addReading((int) reading.getDay().toEpochDay(), reading.getFeatures(), recentReadings);
    series.forgetSeen(maxPendingDays, recentReadings);
    int n = series.waitingCount();
    if (n == 0) {
      return;
    }
    // kept in (base day, horizon, model, version) order, so evaluations come in a stable order
    boolean[] keep = new boolean[n];
    boolean settled = false;
    for (int i = 0; i < n; i++) {
      int outcome = outcome(series, series.waitingBaseDay(i), series.waitingHorizon(i));
      if (outcome != WAIT) {
        settle(series, reading.getSeriesId(), series.waitingAt(i), outcome, out);
        settled = true;
      } else {
        keep[i] = true;
      }
    }
    if (settled) {
      series.retainWaiting(keep);
    }
  }

  /** {@link #outcome}: the forecast waits on. */
  private static final int WAIT = -1;

  /** {@link #outcome}: dropped as expired (out of reach). */
  private static final int EXPIRED = -2;

  /** {@link #outcome}: dropped as unmatched (a horizon below 1). */
  private static final int UNMATCHED = -3;

  /**
   * What a forecast from {@code baseDay} of this horizon meets now: the row of its actual reading
   * among the recent ones, or {@link #WAIT}, {@link #EXPIRED} or {@link #UNMATCHED}.
   */
  private int outcome(SeriesEvaluation series, int baseDay, int horizon) {
    if (outOfReach(series, baseDay)) {
      return EXPIRED;
    }
    if (horizon < 1) {
      return UNMATCHED;
    }
    int row = stepsAfter(series, baseDay, horizon);
    return row >= 0 ? row : WAIT;
  }

  /**
   * Scores a forecast whose wait is over against the reading in {@code outcome}'s row, or counts it
   * as expired or unmatched ({@link #outcome}).
   */
  private void settle(
      SeriesEvaluation series,
      String seriesId,
      SeriesEvaluation.Pending w,
      int outcome,
      Collector<Evaluation> out) {
    if (outcome == EXPIRED) {
      expired.inc();
      return;
    }
    if (outcome == UNMATCHED) {
      unmatched.inc();
      return;
    }
    int row = outcome;
    String target = series.names[w.target()];
    double actual = series.value(row, target);
    if (Double.isNaN(actual)) {
      unmatched.inc();
      return;
    }
    Double persisted = null;
    for (int r = 0; r < series.days.length; r++) {
      if (series.days[r] == w.baseDay()) {
        double v = series.value(r, target);
        persisted = Double.isNaN(v) ? null : v;
      }
    }
    String modelName = series.names[w.model()];
    LocalDate baseDay = LocalDate.ofEpochDay(w.baseDay());
    double[] intervals = w.intervals();
    List<IntervalHit> hits = new ArrayList<>(intervals.length / 3);
    for (int i = 0; i < intervals.length; i += 3) {
      double lower = intervals[i + 1];
      double upper = intervals[i + 2];
      hits.add(new IntervalHit(intervals[i], lower, upper, actual >= lower && actual <= upper));
    }
    Evaluation evaluation =
        Evaluation.newBuilder()
            // the scorer's id, made again: the same series, base day, horizon, model and version
            .setForecastId(ForecastIds.of(seriesId, baseDay, w.horizon(), modelName, w.version()))
            .setSeriesId(seriesId)
            .setTargetDay(LocalDate.ofEpochDay(series.days[row]))
            .setTarget(target)
            .setPredicted(w.value())
            .setActual(actual)
            .setError(w.value() - actual)
            .setPersistenceError(persisted == null ? null : persisted - actual)
            .setModelName(modelName)
            .setModelVersion(w.version())
            .setHorizon(w.horizon())
            .setIntervals(hits)
            .build();
    ModelAccuracy model =
        accuracy.computeIfAbsent(modelName, name -> ModelAccuracy.registeredUnder(metrics, name));
    model.of(w.version()).add(evaluation);
    model.gaugeCoverageOf(evaluation);
    out.collect(evaluation);
  }

  private boolean outOfReach(SeriesEvaluation series, int baseDay) {
    return series.outOfReach(baseDay, maxPendingDays, recentReadings);
  }

  /** The row of the {@code steps}-th recent reading after {@code day}, or -1 when not arrived. */
  private static int stepsAfter(SeriesEvaluation series, int day, int steps) {
    int seen = 0;
    for (int r = 0; r < series.days.length; r++) {
      if (series.days[r] > day && ++seen == steps) {
        return r;
      }
    }
    return -1;
  }

  /**
   * The live accuracy of one model version on this subtask, or null when none was scored (or the
   * version is older than the newest {@link #VERSIONS_KEPT}).
   */
  LiveAccuracy liveAccuracy(String modelName, long modelVersion) {
    ModelAccuracy model = accuracy.get(modelName);
    Accuracy live = model == null ? null : model.versions.get(modelVersion);
    return live == null ? null : live.snapshot();
  }

  /** {@link #liveAccuracy(String, long)} of one horizon; null when none was scored. */
  LiveAccuracy liveAccuracy(String modelName, long modelVersion, int horizon) {
    ModelAccuracy model = accuracy.get(modelName);
    Accuracy live = model == null ? null : model.versions.get(modelVersion);
    return live == null || !live.horizons().contains(horizon) ? null : live.snapshot(horizon);
  }

  /** Versions of a model whose live accuracy this subtask keeps. */
  Set<Long> versionsKept(String modelName) {
    ModelAccuracy model = accuracy.get(modelName);
    return model == null ? Set.of() : Set.copyOf(model.versions.keySet());
  }

  long redeliveredForecasts() {
    return redelivered.getCount();
  }

  long expiredForecasts() {
    return expired.getCount();
  }

  long unmatchedForecasts() {
    return unmatched.getCount();
  }

  /**
   * Evaluations, mean absolute error of the model, mean absolute error of persistence over the
   * evaluations that have a persistence error (NaN when none has), and the share of actuals inside
   * each interval level of the forecasts that had one.
   */
  record LiveAccuracy(
      long evaluations, double mae, double persistenceMae, Map<Double, Double> coverage) {}

  /**
   * The newest {@link #VERSIONS_KEPT} versions of one model, and the gauges of the newest: one set
   * of gauges per model name, however many versions come and go.
   */
  static final class ModelAccuracy {
    private final TreeMap<Long, Accuracy> versions = new TreeMap<>();

    /** Horizons whose gauges are registered. */
    private final BitSet horizonsGauged = new BitSet();

    /**
     * Levels whose coverage gauge is registered, and per level the horizons whose is: checked for
     * every evaluation, so without boxing or building a key.
     */
    private double[] levelsGauged = new double[0];

    private BitSet[] levelHorizonsGauged = new BitSet[0];
    private MetricGroup group;

    /**
     * Gauges {@code model.<name>.{version,evaluations,mae,persistenceMae}} under the group (of the
     * model's first horizon), {@code coverage<percent>} (e.g. {@code coverage80}) for each interval
     * level once one is scored, and the same per horizon under {@code model.<name>.horizon.<h>}.
     */
    static ModelAccuracy registeredUnder(MetricGroup group, String modelName) {
      ModelAccuracy model = new ModelAccuracy();
      MetricGroup g = group.addGroup("model", modelName);
      model.group = g;
      g.gauge(
          "version", (Gauge<Long>) () -> model.versions.isEmpty() ? 0 : model.versions.lastKey());
      g.gauge("evaluations", (Gauge<Long>) () -> model.newest().snapshot().evaluations());
      g.gauge("mae", (Gauge<Double>) () -> model.newest().snapshot().mae());
      g.gauge("persistenceMae", (Gauge<Double>) () -> model.newest().snapshot().persistenceMae());
      return model;
    }

    private Accuracy newest() {
      return versions.isEmpty() ? new Accuracy() : versions.lastEntry().getValue();
    }

    void gaugeCoverageOf(Evaluation evaluation) {
      int h = evaluation.getHorizon();
      if (!horizonsGauged.get(h)) {
        horizonsGauged.set(h);
        MetricGroup g = group.addGroup("horizon", Integer.toString(h));
        g.gauge("evaluations", (Gauge<Long>) () -> newest().snapshot(h).evaluations());
        g.gauge("mae", (Gauge<Double>) () -> newest().snapshot(h).mae());
        g.gauge("persistenceMae", (Gauge<Double>) () -> newest().snapshot(h).persistenceMae());
      }
      for (IntervalHit hit : evaluation.getIntervals()) {
        double level = hit.getLevel();
        int l = 0;
        while (l < levelsGauged.length && levelsGauged[l] != level) {
          l++;
        }
        if (l == levelsGauged.length) {
          levelsGauged = Arrays.copyOf(levelsGauged, l + 1);
          levelsGauged[l] = level;
          levelHorizonsGauged = Arrays.copyOf(levelHorizonsGauged, l + 1);
          levelHorizonsGauged[l] = new BitSet();
          group.gauge(
              coverageGauge(level),
              (Gauge<Double>) () -> newest().snapshot().coverage().getOrDefault(level, Double.NaN));
        }
        if (!levelHorizonsGauged[l].get(h)) {
          levelHorizonsGauged[l].set(h);
          group
              .addGroup("horizon", Integer.toString(h))
              .gauge(
                  coverageGauge(level),
                  (Gauge<Double>)
                      () -> newest().snapshot(h).coverage().getOrDefault(level, Double.NaN));
        }
      }
    }

    private static String coverageGauge(double level) {
      return "coverage" + Math.round(level * 100);
    }

    Accuracy of(long version) {
      Accuracy a = versions.computeIfAbsent(version, v -> new Accuracy());
      while (versions.size() > VERSIONS_KEPT) {
        versions.pollFirstEntry();
      }
      return a;
    }
  }

  /** Running sums of one model version, per horizon. */
  static final class Accuracy {
    private final TreeMap<Integer, Sums> byHorizon = new TreeMap<>();

    void add(Evaluation evaluation) {
      byHorizon.computeIfAbsent(evaluation.getHorizon(), h -> new Sums()).add(evaluation);
    }

    /** The first horizon's (the nearest: what a one-horizon model forecasts). */
    LiveAccuracy snapshot() {
      return byHorizon.isEmpty()
          ? new Sums().snapshot()
          : byHorizon.firstEntry().getValue().snapshot();
    }

    LiveAccuracy snapshot(int horizon) {
      Sums sums = byHorizon.get(horizon);
      return (sums == null ? new Sums() : sums).snapshot();
    }

    Set<Integer> horizons() {
      return Set.copyOf(byHorizon.keySet());
    }
  }

  /** Running sums of one model version and horizon. */
  static final class Sums {
    private long evaluations;
    private double absErrorSum;
    private long withPersistence;
    private double absPersistenceErrorSum;
    private final TreeMap<Double, long[]> inside = new TreeMap<>();

    void add(Evaluation evaluation) {
      evaluations++;
      for (IntervalHit hit : evaluation.getIntervals()) {
        long[] c = inside.computeIfAbsent(hit.getLevel(), l -> new long[2]);
        c[0] += hit.getInside() ? 1 : 0;
        c[1]++;
      }
      absErrorSum += Math.abs(evaluation.getError());
      if (evaluation.getPersistenceError() != null) {
        withPersistence++;
        absPersistenceErrorSum += Math.abs(evaluation.getPersistenceError());
      }
    }

    LiveAccuracy snapshot() {
      return new LiveAccuracy(
          evaluations,
          evaluations == 0 ? Double.NaN : absErrorSum / evaluations,
          withPersistence == 0 ? Double.NaN : absPersistenceErrorSum / withPersistence,
          inside.entrySet().stream()
              .collect(
                  Collectors.toMap(
                      Map.Entry::getKey,
                      e -> (double) e.getValue()[0] / e.getValue()[1],
                      (a, b) -> a,
                      TreeMap::new)));
    }
  }
}
