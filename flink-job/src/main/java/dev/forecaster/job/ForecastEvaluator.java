package dev.forecaster.job;

import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.IntervalHit;
import dev.forecaster.avro.Reading;
import dev.forecaster.schemas.TrustedPackages;
import java.time.Duration;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
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
 * Both only become true as readings advance, which is what lets duplicates be handled cheaply: the
 * id of a settled forecast is kept until the forecast is out of reach, and a duplicate that comes
 * later is out of reach itself.
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
   * State names: the series' recent readings, waiting and settled forecasts, and the processing
   * time of its last event. (Renamed when the TTL gave way to a timer: a state restored under its
   * old name with another TTL setting would fail the restore.)
   */
  static final String RECENT = "series-recent-readings";

  static final String PENDING = "series-pending-forecasts";

  static final String SETTLED = "series-settled-forecasts";

  static final String LAST_EVENT = "series-last-event-time";

  /** Versions of each model whose live accuracy a subtask keeps. */
  static final int VERSIONS_KEPT = 3;

  private final int recentReadings;
  private final int maxPendingDays;
  private final long ttlDays;

  /** The series' last readings, ordered by day, at most {@code recentReadings}. */
  private transient ListState<Reading> recent;

  /**
   * Forecasts waiting for their actual reading, by forecast id. One value per series, not a map
   * state: the TTL's incremental cleanup of a map state walks every entry of the keys it visits on
   * every access, which with several horizons (dozens of entries per series) cost more than the
   * rest of the job; a value costs one timestamp check.
   */
  private transient ValueState<Map<String, Forecast>> pending;

  /**
   * Ids of forecasts already scored or found unmatched, with their base day, until out of reach
   * (one value per series, as {@link #pending}).
   */
  private transient ValueState<Map<String, LocalDate>> settled;

  /** Processing time of the series' last event; its clean-up timer is due a TTL after it. */
  private transient ValueState<Long> lastEvent;

  private transient MetricGroup metrics;
  private transient Counter expired;
  private transient Counter unmatched;
  // Per subtask and not checkpointed: after a failure the live figures start again from zero.
  private transient Map<String, ModelAccuracy> accuracy;

  /** The evaluator of a job's configuration ({@code evaluation.*}, {@code state.ttl.days}). */
  public ForecastEvaluator(JobConfig config) {
    this(config.recentReadings(), config.maxPendingDays(), config.stateTtl().toDays());
  }

  /**
   * @param recentReadings readings kept per series; must exceed the longest forecast horizon
   * @param maxPendingDays days behind the newest reading after which a waiting forecast expires
   * @param ttlDays days of processing time after which a quiet series' state is cleared
   */
  public ForecastEvaluator(int recentReadings, int maxPendingDays, long ttlDays) {
    if (recentReadings < 2) {
      throw new IllegalArgumentException(
          "recentReadings must be at least 2, got " + recentReadings);
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
    recent =
        getRuntimeContext()
            .getListState(new ListStateDescriptor<>(RECENT, new AvroTypeInfo<>(Reading.class)));
    pending =
        getRuntimeContext()
            .getState(
                new ValueStateDescriptor<>(
                    PENDING, Types.MAP(Types.STRING, new AvroTypeInfo<>(Forecast.class))));
    settled =
        getRuntimeContext()
            .getState(
                new ValueStateDescriptor<>(SETTLED, Types.MAP(Types.STRING, Types.LOCAL_DATE)));
    lastEvent = getRuntimeContext().getState(new ValueStateDescriptor<>(LAST_EVENT, Types.LONG));
    metrics = getRuntimeContext().getMetricGroup();
    expired = metrics.counter("expiredForecasts");
    unmatched = metrics.counter("unmatchedForecasts");
    accuracy = new HashMap<>();
  }

  @Override
  public void processElement(ScoredEvent event, Context ctx, Collector<Evaluation> out)
      throws Exception {
    long now = ctx.timerService().currentProcessingTime();
    if (lastEvent.value() == null) { // the series' first event (or first since it was cleared)
      ctx.timerService().registerProcessingTimeTimer(now + ttlMillis());
    }
    lastEvent.update(now);
    if (event.forecast != null) {
      onForecast(event.forecast, out);
    } else {
      onReading(event.actual, out);
    }
  }

  private void onForecast(Forecast forecast, Collector<Evaluation> out) throws Exception {
    String id = forecast.getForecastId();
    Map<String, LocalDate> done = orEmpty(settled.value());
    Map<String, Forecast> waiting = orEmpty(pending.value());
    if (done.containsKey(id) || waiting.containsKey(id)) {
      return; // a duplicate: the same id is the same forecast
    }
    if (settle(forecast, recentReadings(), done, out)) {
      store(settled, done);
    } else {
      waiting.put(id, forecast);
      store(pending, waiting);
    }
  }

  /**
   * A series' clean-up timer: its state goes if it was quiet for the TTL, else the timer moves to a
   * TTL after its last event.
   */
  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<Evaluation> out)
      throws Exception {
    Long last = lastEvent.value();
    if (last == null) {
      return;
    }
    if (last + ttlMillis() <= timestamp) {
      recent.clear();
      pending.clear();
      settled.clear();
      lastEvent.clear();
    } else {
      ctx.timerService().registerProcessingTimeTimer(last + ttlMillis());
    }
  }

  private long ttlMillis() {
    return Duration.ofDays(ttlDays).toMillis();
  }

  private static <V> Map<String, V> orEmpty(Map<String, V> map) {
    return map == null ? new HashMap<>() : map;
  }

  /** Writes a series' map back, or clears the state when it is empty (no state left behind). */
  private static <V> void store(ValueState<Map<String, V>> state, Map<String, V> map)
      throws Exception {
    if (map.isEmpty()) {
      state.clear();
    } else {
      state.update(map);
    }
  }

  private void onReading(Reading reading, Collector<Evaluation> out) throws Exception {
    List<Reading> readings = recentReadings();
    readings.add(reading); // a new day: duplicates and late days were dead-lettered upstream
    readings.sort(Comparator.comparing(Reading::getDay));
    while (readings.size() > recentReadings) {
      readings.remove(0);
    }
    recent.update(readings);

    Map<String, LocalDate> done = orEmpty(settled.value());
    int before = done.size();
    done.values().removeIf(baseDay -> outOfReach(baseDay, readings));
    Map<String, Forecast> waiting = pending.value();
    if (waiting != null) {
      // in base-day order, so that evaluations come out in a stable order
      List<Forecast> byBaseDay = new ArrayList<>(waiting.values());
      byBaseDay.sort(
          Comparator.comparing(Forecast::getBaseDay).thenComparing(Forecast::getForecastId));
      for (Forecast f : byBaseDay) {
        if (settle(f, readings, done, out)) {
          waiting.remove(f.getForecastId());
        }
      }
      store(pending, waiting);
    }
    if (done.size() != before || waiting != null) {
      store(settled, done);
    }
  }

  /**
   * Scores the forecast if its actual reading is among {@code readings}, or drops it when it is out
   * of reach or unmatched. Returns false only when the forecast must keep waiting.
   */
  private boolean settle(
      Forecast forecast,
      List<Reading> readings,
      Map<String, LocalDate> settledIds,
      Collector<Evaluation> out) {
    LocalDate baseDay = forecast.getBaseDay();
    if (outOfReach(baseDay, readings)) {
      expired.inc();
      return true;
    }
    if (forecast.getHorizon() < 1) {
      unmatched.inc();
      return true;
    }
    Reading actualReading = stepsAfter(readings, baseDay, forecast.getHorizon());
    if (actualReading == null) {
      return false;
    }
    settledIds.put(forecast.getForecastId(), baseDay);
    String target = forecast.getTarget();
    Double actual = actualReading.getFeatures().get(target);
    if (actual == null) {
      unmatched.inc();
      return true;
    }
    Double persisted =
        readings.stream()
            .filter(r -> r.getDay().equals(baseDay))
            .findFirst()
            .map(r -> r.getFeatures().get(target))
            .orElse(null);
    Evaluation evaluation =
        Evaluation.newBuilder()
            .setForecastId(forecast.getForecastId())
            .setSeriesId(forecast.getSeriesId())
            .setTargetDay(actualReading.getDay())
            .setTarget(target)
            .setPredicted(forecast.getValue())
            .setActual(actual)
            .setError(forecast.getValue() - actual)
            .setPersistenceError(persisted == null ? null : persisted - actual)
            .setModelName(forecast.getModelName())
            .setModelVersion(forecast.getModelVersion())
            .setHorizon(forecast.getHorizon())
            .setIntervals(
                forecast.getIntervals().stream()
                    .map(
                        i ->
                            new IntervalHit(
                                i.getLevel(),
                                i.getLower(),
                                i.getUpper(),
                                actual >= i.getLower() && actual <= i.getUpper()))
                    .toList())
            .build();
    ModelAccuracy model =
        accuracy.computeIfAbsent(
            forecast.getModelName(), name -> ModelAccuracy.registeredUnder(metrics, name));
    model.of(forecast.getModelVersion()).add(evaluation);
    model.gaugeCoverageOf(evaluation);
    out.collect(evaluation);
    return true;
  }

  /** True once the forecast can no longer be scored, whatever readings come next. */
  private boolean outOfReach(LocalDate baseDay, List<Reading> readings) {
    if (readings.isEmpty()) {
      return false;
    }
    LocalDate newest = readings.get(readings.size() - 1).getDay();
    if (ChronoUnit.DAYS.between(baseDay, newest) > maxPendingDays) {
      return true;
    }
    // once readings have been evicted, some after the base day may be gone: steps can't be counted
    return readings.size() >= recentReadings && baseDay.isBefore(readings.get(0).getDay());
  }

  /** The {@code steps}-th reading after {@code day}, or null when it has not arrived yet. */
  private static Reading stepsAfter(List<Reading> readings, LocalDate day, int steps) {
    int seen = 0;
    for (Reading reading : readings) {
      if (reading.getDay().isAfter(day) && ++seen == steps) {
        return reading;
      }
    }
    return null;
  }

  private List<Reading> recentReadings() throws Exception {
    List<Reading> readings = new ArrayList<>();
    Iterable<Reading> stored = recent.get();
    if (stored != null) {
      stored.forEach(readings::add);
    }
    return readings;
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
    private final Set<Double> levelsGauged = new HashSet<>();
    private final Set<Integer> horizonsGauged = new HashSet<>();
    private final Set<String> horizonLevelsGauged = new HashSet<>();
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
      if (horizonsGauged.add(h)) {
        MetricGroup g = group.addGroup("horizon", Integer.toString(h));
        g.gauge("evaluations", (Gauge<Long>) () -> newest().snapshot(h).evaluations());
        g.gauge("mae", (Gauge<Double>) () -> newest().snapshot(h).mae());
        g.gauge("persistenceMae", (Gauge<Double>) () -> newest().snapshot(h).persistenceMae());
      }
      for (IntervalHit hit : evaluation.getIntervals()) {
        double level = hit.getLevel();
        String gauge = "coverage" + Math.round(level * 100);
        if (levelsGauged.add(level)) {
          group.gauge(
              gauge,
              (Gauge<Double>) () -> newest().snapshot().coverage().getOrDefault(level, Double.NaN));
        }
        if (horizonLevelsGauged.add(h + "/" + level)) {
          group
              .addGroup("horizon", Integer.toString(h))
              .gauge(
                  gauge,
                  (Gauge<Double>)
                      () -> newest().snapshot(h).coverage().getOrDefault(level, Double.NaN));
        }
      }
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
