package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;
import static org.assertj.core.api.Assertions.within;

import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.Interval;
import dev.forecaster.avro.IntervalHit;
import dev.forecaster.avro.Reading;
import dev.forecaster.schemas.ForecastIds;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.metrics.testutils.MetricListener;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ForecastEvaluatorTest {

  private static final String STATION = "KSEA";
  private static final String TMAX = "temp_max";
  private static final LocalDate MON = LocalDate.of(2015, 3, 16);
  private static final long DAY_MS = 86_400_000L;
  private static final Instant CREATED = Instant.parse("2026-01-05T08:00:00Z");

  private ForecastEvaluator evaluator;
  private KeyedOneInputStreamOperatorTestHarness<String, ScoredEvent, Evaluation> harness;

  @AfterEach
  void closeHarness() throws Exception {
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void forecastIsScoredWhenItsActualArrives() throws Exception {
    open(new ForecastEvaluator(JobConfig.defaultsOnly()));
    reading(MON, 12.0);
    Forecast forecast = forecast(MON, 1, 13.25);
    harness.processElement(ScoredEvent.of(forecast), 0L);
    assertThat(harness.extractOutputValues()).isEmpty();

    reading(MON.plusDays(1), 14.0);

    assertThat(harness.extractOutputValues())
        .containsExactly(evaluation(forecast, MON.plusDays(1), 14.0, -0.75, -2.0));
  }

  @Test
  void actualThatArrivedFirstScoresALateForecast() throws Exception {
    open(new ForecastEvaluator(JobConfig.defaultsOnly()));
    reading(MON, 12.0);
    reading(MON.plusDays(1), 14.0);

    Forecast forecast = forecast(MON, 1, 13.25);
    harness.processElement(ScoredEvent.of(forecast), 0L);

    assertThat(harness.extractOutputValues())
        .containsExactly(evaluation(forecast, MON.plusDays(1), 14.0, -0.75, -2.0));
  }

  @Test
  void aForecastOverAWeekendIsScoredAgainstTheNextTradingDay() throws Exception {
    open(new ForecastEvaluator(JobConfig.defaultsOnly()));
    LocalDate friday = LocalDate.of(2024, 3, 8);
    LocalDate monday = LocalDate.of(2024, 3, 11);
    harness.processElement(
        ScoredEvent.of(
            Reading.newBuilder()
                .setSeriesId("SPX")
                .setDay(friday)
                .setFeatures(Map.of("close", 5123.5))
                .setDomain("stock")
                .build()),
        0L);
    Forecast forecast =
        Forecast.newBuilder()
            .setForecastId(ForecastIds.of("SPX", friday, 1, "stock", 1))
            .setSeriesId("SPX")
            .setBaseDay(friday)
            .setTargetDay(friday.plusDays(1))
            .setHorizon(1)
            .setTarget("close")
            .setValue(5130.0)
            .setModelName("stock")
            .setModelVersion(1)
            .setCreatedAt(CREATED)
            .build();
    harness.processElement(ScoredEvent.of(forecast), 0L);

    harness.processElement(
        ScoredEvent.of(
            Reading.newBuilder()
                .setSeriesId("SPX")
                .setDay(monday)
                .setFeatures(Map.of("close", 5117.5))
                .setDomain("stock")
                .build()),
        0L);

    assertThat(harness.extractOutputValues())
        .containsExactly(
            Evaluation.newBuilder()
                .setForecastId(forecast.getForecastId())
                .setSeriesId("SPX")
                .setTargetDay(monday)
                .setTarget("close")
                .setPredicted(5130.0)
                .setActual(5117.5)
                .setError(12.5)
                .setPersistenceError(6.0)
                .setModelName("stock")
                .setModelVersion(1)
                .build());
  }

  @Test
  void horizonTwoTargetsTheSecondReadingAfterTheBase() throws Exception {
    open(new ForecastEvaluator(JobConfig.defaultsOnly()));
    reading(MON, 12.0);
    Forecast forecast = forecast(MON, 2, 15.5);
    harness.processElement(ScoredEvent.of(forecast), 0L);

    reading(MON.plusDays(1), 14.0);
    assertThat(harness.extractOutputValues()).isEmpty();
    reading(MON.plusDays(2), 16.0);

    assertThat(harness.extractOutputValues())
        .containsExactly(evaluation(forecast, MON.plusDays(2), 16.0, -0.5, -4.0));
  }

  @Test
  void persistenceErrorUsesTheBaseDaysValue() throws Exception {
    open(new ForecastEvaluator(JobConfig.defaultsOnly()));
    reading(MON, 10.0);
    reading(MON.plusDays(1), 11.0);
    Forecast forecast = forecast(MON.plusDays(1), 1, 12.5);
    harness.processElement(ScoredEvent.of(forecast), 0L);

    reading(MON.plusDays(2), 12.0);

    // persistence says "as on the base day": 11 - 12, not the older 10 - 12
    assertThat(harness.extractOutputValues())
        .containsExactly(evaluation(forecast, MON.plusDays(2), 12.0, 0.5, -1.0));
  }

  @Test
  void persistenceErrorIsNullWhenTheBaseDayIsUnknown() throws Exception {
    open(new ForecastEvaluator(JobConfig.defaultsOnly()));
    Forecast forecast = forecast(MON, 1, 13.25);
    harness.processElement(ScoredEvent.of(forecast), 0L);

    reading(MON.plusDays(1), 14.0);

    assertThat(harness.extractOutputValues())
        .containsExactly(evaluation(forecast, MON.plusDays(1), 14.0, -0.75, null));
    assertThat(evaluator.liveAccuracy("weather", 3))
        .isEqualTo(new ForecastEvaluator.LiveAccuracy(1, 0.75, Double.NaN, Map.of()));
  }

  @Test
  void aDuplicateForecastIsScoredOnce() throws Exception {
    open(new ForecastEvaluator(JobConfig.defaultsOnly()));
    reading(MON, 12.0);
    Forecast forecast = forecast(MON, 1, 13.25);
    harness.processElement(ScoredEvent.of(forecast), 0L);
    harness.processElement(
        ScoredEvent.of(forecast(MON, 1, 13.25)), 0L); // redelivered while waiting

    reading(MON.plusDays(1), 14.0);
    harness.processElement(
        ScoredEvent.of(forecast(MON, 1, 13.25)), 0L); // redelivered after it was scored
    reading(MON.plusDays(2), 15.0);

    assertThat(harness.extractOutputValues())
        .containsExactly(evaluation(forecast, MON.plusDays(1), 14.0, -0.75, -2.0));
    assertThat(evaluator.liveAccuracy("weather", 3).evaluations()).isEqualTo(1);
    assertThat(evaluator.redeliveredForecasts()).isEqualTo(2);
  }

  @Test
  void evaluatedForecastsLeaveNoPendingState() throws Exception {
    open(new ForecastEvaluator(3, 60, 30));
    reading(MON, 12.0);
    harness.processElement(ScoredEvent.of(forecast(MON, 1, 13.25)), 0L);
    assertThat(waiting(STATION)).isEqualTo(1);

    reading(MON.plusDays(1), 14.0);
    assertThat(harness.extractOutputValues()).hasSize(1);
    assertThat(waiting(STATION)).isZero();
    assertThat(remembered(STATION))
        .as("the forecast's version and horizon, against redelivery")
        .isEqualTo(1);

    // once the base day has left the recent readings the id is no longer needed to stop duplicates
    reading(MON.plusDays(2), 15.0);
    reading(MON.plusDays(3), 16.0);
    assertThat(remembered(STATION)).isZero();
    assertThat(harness.numKeyedStateEntries()).isEqualTo(1); // one value per series
    assertThat(harness.extractOutputValues()).hasSize(1);
  }

  @Test
  void anActualThatNeverComesExpiresTheForecast() throws Exception {
    open(new ForecastEvaluator(16, 5, 30));
    reading(MON, 12.0);
    harness.processElement(ScoredEvent.of(forecast(MON, 3, 13.25)), 0L);
    reading(MON.plusDays(1), 14.0);
    assertThat(waiting(STATION)).isEqualTo(1);

    // the station falls silent for a week: its third reading would come too late to mean anything
    reading(MON.plusDays(9), 15.0);

    assertThat(harness.extractOutputValues()).isEmpty();
    assertThat(evaluator.expiredForecasts()).isEqualTo(1);
    assertThat(waiting(STATION)).isZero();
    assertThat(harness.numKeyedStateEntries()).isEqualTo(1); // one value per series
  }

  @Test
  void aForecastOlderThanTheRecentReadingsExpiresInsteadOfMeetingTheWrongReading()
      throws Exception {
    open(new ForecastEvaluator(3, 60, 30));
    for (int day = 0; day < 5; day++) {
      reading(MON.plusDays(day), 10.0 + day); // MON and MON+1 are evicted
    }

    harness.processElement(ScoredEvent.of(forecast(MON, 1, 13.25)), 0L);

    // counting steps among what is left would pair it with MON+2 instead of MON+1
    assertThat(harness.extractOutputValues()).isEmpty();
    assertThat(evaluator.expiredForecasts()).isEqualTo(1);
    assertThat(waiting(STATION)).isZero();
  }

  @Test
  void aReadingWithoutTheTargetFeatureLeavesTheForecastUnmatched() throws Exception {
    open(new ForecastEvaluator(JobConfig.defaultsOnly()));
    reading(MON, 12.0);
    harness.processElement(ScoredEvent.of(forecast(MON, 1, 13.25)), 0L);

    harness.processElement(
        ScoredEvent.of(
            Reading.newBuilder()
                .setSeriesId(STATION)
                .setDay(MON.plusDays(1))
                .setFeatures(Map.of("temp_min", 4.0))
                .setDomain("weather")
                .build()),
        0L);

    assertThat(harness.extractOutputValues()).isEmpty();
    assertThat(evaluator.unmatchedForecasts()).isEqualTo(1);
    assertThat(waiting(STATION)).isZero();
  }

  @Test
  void liveMaeIsTrackedPerModelVersion() throws Exception {
    open(new ForecastEvaluator(JobConfig.defaultsOnly()));
    reading(MON, 10.0);
    harness.processElement(ScoredEvent.of(forecast(MON, 1, 11.5, 3)), 0L);
    harness.processElement(ScoredEvent.of(forecast(MON, 1, 12.25, 4)), 0L);
    reading(MON.plusDays(1), 12.0);
    harness.processElement(ScoredEvent.of(forecast(MON.plusDays(1), 1, 12.5, 3)), 0L);
    harness.processElement(ScoredEvent.of(forecast(MON.plusDays(1), 1, 10.25, 4)), 0L);
    reading(MON.plusDays(2), 11.0);

    // v3 errors -0.5, 1.5; v4 errors 0.25, -0.75; persistence errors -2 and 1 for both
    assertThat(evaluator.liveAccuracy("weather", 3))
        .isEqualTo(new ForecastEvaluator.LiveAccuracy(2, 1.0, 1.5, Map.of()));
    assertThat(evaluator.liveAccuracy("weather", 4))
        .isEqualTo(new ForecastEvaluator.LiveAccuracy(2, 0.5, 1.5, Map.of()));
    assertThat(evaluator.liveAccuracy("weather", 5)).isNull();
  }

  @Test
  void accuracyAndCoverageAreKeptAndGaugedPerHorizon() throws Exception {
    open(new ForecastEvaluator(JobConfig.defaultsOnly()));
    List<Interval> wide = List.of(new Interval(0.8, 0.0, 30.0));
    reading(MON, 10.0);
    harness.processElement(ScoredEvent.of(forecast(MON, 1, 11.5, 3)), 0L);
    harness.processElement(
        ScoredEvent.of(Forecast.newBuilder(forecast(MON, 2, 14.0, 3)).setIntervals(wide).build()),
        0L);
    reading(MON.plusDays(1), 12.0); // h = 1: error -0.5
    reading(MON.plusDays(2), 11.0); // h = 2: error 3.0, inside

    assertThat(evaluator.liveAccuracy("weather", 3, 1))
        .isEqualTo(new ForecastEvaluator.LiveAccuracy(1, 0.5, 2.0, Map.of()));
    assertThat(evaluator.liveAccuracy("weather", 3, 2))
        .isEqualTo(new ForecastEvaluator.LiveAccuracy(1, 3.0, 1.0, Map.of(0.8, 1.0)));
    assertThat(evaluator.liveAccuracy("weather", 3, 3)).isNull();
    // the model's headline is its nearest horizon
    assertThat(evaluator.liveAccuracy("weather", 3).mae()).isEqualTo(0.5);
    MetricListener metrics = gaugedAsVersion3(harness.extractOutputValues());
    assertThat(gauge(metrics, "mae")).isEqualTo(0.5);
    assertThat(metrics.getGauge("model", "weather", "horizon", "2", "mae").orElseThrow().getValue())
        .isEqualTo(3.0);
    assertThat(
            metrics
                .getGauge("model", "weather", "horizon", "2", "coverage80")
                .orElseThrow()
                .getValue())
        .isEqualTo(1.0);
  }

  @Test
  void gaugesShowTheNewestVersionAndOnlyTheNewestVersionsAreKept() {
    MetricListener metrics = new MetricListener();
    ForecastEvaluator.ModelAccuracy model =
        ForecastEvaluator.ModelAccuracy.registeredUnder(metrics.getMetricGroup(), "weather");
    model.of(2).add(evaluation(forecast(MON, 1, 20.0), MON.plusDays(1), 14.0, 6.0, -2.0));
    ForecastEvaluator.Accuracy v3 = model.of(3);
    v3.add(evaluation(forecast(MON, 1, 13.25), MON.plusDays(1), 14.0, -0.75, -2.0));
    v3.add(evaluation(forecast(MON.plusDays(1), 1, 14.0), MON.plusDays(2), 14.25, -0.25, null));

    assertThat(gauge(metrics, "version")).isEqualTo(3L);
    assertThat(gauge(metrics, "evaluations")).isEqualTo(2L);
    assertThat(gauge(metrics, "mae")).isEqualTo(0.5);
    assertThat(gauge(metrics, "persistenceMae")).isEqualTo(2.0);

    for (long v = 4; v < 4 + 10; v++) {
      model.of(v);
    }
    assertThat(gauge(metrics, "version")).isEqualTo(13L);
    assertThat(gauge(metrics, "evaluations")).isEqualTo(0L);
  }

  @Test
  void aSeriesLiveAccuracyKeepsTheNewestVersionsOnly() throws Exception {
    open(new ForecastEvaluator(JobConfig.defaultsOnly()));
    reading(MON, 10.0);
    for (long v = 1; v <= 10; v++) {
      harness.processElement(ScoredEvent.of(forecast(MON, 1, 11.5, v)), 0L);
    }
    reading(MON.plusDays(1), 12.0);

    assertThat(harness.extractOutputValues()).hasSize(10);
    assertThat(evaluator.versionsKept("weather")).containsExactlyInAnyOrder(8L, 9L, 10L);
  }

  @Test
  void eachIntervalSaysWhetherTheActualFellInsideAndCoverageIsGaugedPerLevel() throws Exception {
    open(new ForecastEvaluator(JobConfig.defaultsOnly()));
    List<Interval> intervals =
        List.of(new Interval(0.8, 12.5, 14.0), new Interval(0.95, 11.0, 15.5));
    reading(MON, 12.0);
    harness.processElement(
        ScoredEvent.of(
            Forecast.newBuilder(forecast(MON, 1, 13.25)).setIntervals(intervals).build()),
        0L);
    reading(MON.plusDays(1), 14.0); // on the 80% interval's upper bound: inside
    harness.processElement(
        ScoredEvent.of(
            Forecast.newBuilder(forecast(MON.plusDays(1), 1, 13.25))
                .setIntervals(intervals)
                .build()),
        0L);
    reading(MON.plusDays(2), 15.0); // outside 80%, inside 95%

    assertThat(harness.extractOutputValues())
        .extracting(Evaluation::getIntervals)
        .containsExactly(
            List.of(
                new IntervalHit(0.8, 12.5, 14.0, true), new IntervalHit(0.95, 11.0, 15.5, true)),
            List.of(
                new IntervalHit(0.8, 12.5, 14.0, false), new IntervalHit(0.95, 11.0, 15.5, true)));
    assertThat(evaluator.liveAccuracy("weather", 3).coverage())
        .containsExactly(entry(0.8, 0.5), entry(0.95, 1.0));
    // the gauges of the model's newest version, per level
    MetricListener metrics = gaugedAsVersion3(harness.extractOutputValues());
    assertThat(gauge(metrics, "coverage80")).isEqualTo(0.5);
    assertThat(gauge(metrics, "coverage95")).isEqualTo(1.0);
  }

  @Test
  void aSeriesWithSevenHorizonsKeepsItsTargetAndWaitingForecastsCompactly() throws Exception {
    open(new ForecastEvaluator(JobConfig.defaultsOnly()));
    for (int day = 0; day < 20; day++) {
      LocalDate d = MON.plusDays(day);
      harness.processElement(
          ScoredEvent.of(
              Reading.newBuilder()
                  .setSeriesId(STATION)
                  .setDay(d)
                  .setFeatures(
                      Map.of(
                          TMAX, 12.0 + day % 5, "temp_min", 4.0, "precipitation", 0.1, "wind", 3.0))
                  .setDomain("weather")
                  .build()),
          0L);
      for (int h = 1; h <= 7; h++) {
        // a network's forecast has every digit; its bounds are offsets added to it, which move
        // with the calibration
        double value = sevenHorizonForecast(day, h);
        double width = 1 + (day * 7 + h) / 97.0;
        harness.processElement(
            ScoredEvent.of(
                Forecast.newBuilder(forecast(d, h, value))
                    .setIntervals(
                        List.of(
                            new Interval(0.8, value - 0.9 * width, value + 0.85 * width),
                            new Interval(0.95, value - 2.1 * width, value + 2.3 * width)))
                    .build()),
            0L);
      }
    }

    SeriesEvaluation state = stateOf(STATION);
    assertThat(state.waitingCount()).as("h = 1..7 wait 1..7 readings").isEqualTo(28);
    assertThat(state.features).as("of each reading only the target").containsExactly(TMAX);
    DataOutputSerializer bytes = new DataOutputSerializer(4096);
    SeriesEvaluationSerializer.INSTANCE.serialize(state, bytes);
    // 702 bytes; 1,434 with the POJO serializer, 3,419 with an object per forecast and every
    // feature
    assertThat(bytes.length()).isLessThan(800);
    SeriesEvaluation restored =
        SeriesEvaluationSerializer.INSTANCE.deserialize(
            new DataInputDeserializer(bytes.getCopyOfBuffer()));
    assertThat(restored).usingRecursiveComparison().isEqualTo(state);

    List<Evaluation> evaluations = harness.extractOutputValues();
    assertThat(evaluations).hasSize(13 * 7 + 6 + 5 + 4 + 3 + 2 + 1);
    IntervalHit hit = evaluations.get(0).getIntervals().get(0);
    assertThat(hit.getLevel()).isEqualTo(0.8);
    assertThat(hit.getLower())
        .as("a bound to float precision")
        .isCloseTo(sevenHorizonForecast(0, 1) - 0.9 * (1 + 1 / 97.0), within(1e-6));
    assertThat(hit.getUpper())
        .isCloseTo(sevenHorizonForecast(0, 1) + 0.85 * (1 + 1 / 97.0), within(1e-6));
  }

  private static double sevenHorizonForecast(int day, int horizon) {
    return 13.25 + horizon / 7.0 + day / 3.0;
  }

  /**
   * Checkpoints of the builds before: written by Flink's POJO serializer, of the layout before the
   * compact arrays (096118f) and of the compact arrays before their compact encoding (6ee9a77; on
   * the heap and in RocksDB, which rewrites every value with the new serializer as it restores);
   * and one in the compact encoding's first format (20c9f83: it pins that format). Each holds one
   * reading of MON (12.0) and two forecasts from MON waiting, horizon 1 (13.25, 80% and 95%
   * intervals) and 2 (13.5).
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "evaluator-096118f.snapshot",
        "evaluator-6ee9a77.snapshot",
        "evaluator-6ee9a77-rocksdb.snapshot",
        "evaluator-format1.snapshot"
      })
  void aCheckpointOfAnEarlierLayoutRestoresItsWaitingForecasts(String file) throws Exception {
    evaluator = new ForecastEvaluator(JobConfig.defaultsOnly());
    harness = newHarness(evaluator);
    StoredCheckpoints.restoreAndOpen(harness, file);

    reading(MON.plusDays(1), 14.0);
    reading(MON.plusDays(2), 15.0);

    assertThat(harness.extractOutputValues())
        .containsExactly(
            Evaluation.newBuilder(
                    evaluation(forecast(MON, 1, 13.25), MON.plusDays(1), 14.0, -0.75, -2.0))
                .setIntervals(
                    List.of(
                        new IntervalHit(0.8, 12.5, 14.0, true),
                        new IntervalHit(0.95, 11.0, 15.5, true)))
                .build(),
            evaluation(forecast(MON, 2, 13.5), MON.plusDays(2), 15.0, -1.5, -3.0));
    assertThat(stateOf(STATION).waiting).isEmpty();
    assertThat(stateOf(STATION).features).containsExactly(TMAX);
  }

  @Test
  void aSeriesKeepsOnlyTheIntervalLevelsItsWaitingForecastsUse() throws Exception {
    open(new ForecastEvaluator(JobConfig.defaultsOnly()));
    reading(MON, 12.0);
    harness.processElement(
        ScoredEvent.of(
            Forecast.newBuilder(forecast(MON, 1, 13.25))
                .setIntervals(List.of(new Interval(0.5, 13.0, 13.5)))
                .build()),
        0L);
    reading(MON.plusDays(1), 14.0);
    harness.processElement(
        ScoredEvent.of(
            Forecast.newBuilder(forecast(MON.plusDays(1), 1, 13.25))
                .setIntervals(List.of(new Interval(0.9, 12.0, 14.5), new Interval(0.6, 13.0, 14.0)))
                .build()),
        0L);

    assertThat(stateOf(STATION).levels).containsExactly(0.9, 0.6);
    reading(MON.plusDays(2), 14.0);
    assertThat(harness.extractOutputValues().get(1).getIntervals())
        .as("in the order the forecast listed them")
        .containsExactly(
            new IntervalHit(0.9, 12.0, 14.5, true), new IntervalHit(0.6, 13.0, 14.0, true));
  }

  @Test
  void aForecastThatSortsBeforeTheWaitingOnesKeepsItsOwnIntervals() {
    SeriesEvaluation series = new SeriesEvaluation();
    int day = (int) MON.toEpochDay();
    int model = series.name("weather");
    int target = series.name(TMAX);
    series.addWaiting(
        new SeriesEvaluation.Pending(
            day + 1, 1, model, 3, target, 20.0, new double[] {0.8, 19, 21}));
    series.addWaiting(
        new SeriesEvaluation.Pending(
            day, 2, model, 3, target, 10.0, new double[] {0.8, 9, 11.5, 0.95, 8, 12.5}));
    series.addWaiting(
        new SeriesEvaluation.Pending(day, 1, model, 3, target, 5.0, new double[] {0.95, 4, 6}));

    assertThat(series.waitingAt(0))
        .usingRecursiveComparison()
        .isEqualTo(
            new SeriesEvaluation.Pending(day, 1, model, 3, target, 5.0, new double[] {0.95, 4, 6}));
    assertThat(series.waitingAt(1))
        .usingRecursiveComparison()
        .isEqualTo(
            new SeriesEvaluation.Pending(
                day, 2, model, 3, target, 10.0, new double[] {0.8, 9, 11.5, 0.95, 8, 12.5}));
    assertThat(series.waitingAt(2))
        .usingRecursiveComparison()
        .isEqualTo(
            new SeriesEvaluation.Pending(
                day + 1, 1, model, 3, target, 20.0, new double[] {0.8, 19, 21}));
  }

  @Test
  void theOlderLayoutsForecastsOfTwoTargetsKeepTheirTargetsReadings() {
    SeriesEvaluation series = new SeriesEvaluation();
    int day = (int) MON.toEpochDay();
    series.addReading(day, Map.of(TMAX, 12.0, "temp_min", 4.0, "wind", 3.0), 16);
    SeriesEvaluation.Waiting max = new SeriesEvaluation.Waiting();
    max.baseDay = day;
    max.horizon = 1;
    max.model = series.name("weather");
    max.target = series.name(TMAX);
    max.value = 13.25;
    SeriesEvaluation.Waiting min = new SeriesEvaluation.Waiting();
    min.baseDay = day;
    min.horizon = 1;
    min.model = series.name("frost");
    min.target = series.name("temp_min");
    min.value = 3.5;
    series.waiting = new SeriesEvaluation.Waiting[] {max, min};

    series.moveOlderLayout();

    assertThat(series.features).containsExactly(TMAX, "temp_min");
    assertThat(series.value(0, TMAX)).isEqualTo(12.0);
    assertThat(series.value(0, "temp_min")).isEqualTo(4.0);
    assertThat(series.waitingCount()).isEqualTo(2);
    assertThat(series.waiting).isEmpty();
  }

  @Test
  void aSeriesQuietForTheTtlLeavesNoStateBehind() throws Exception {
    open(new ForecastEvaluator(16, 60, 1));
    harness.setProcessingTime(0);
    reading(MON, 12.0);
    harness.processElement(ScoredEvent.of(forecast(MON, 1, 13.25)), 0L);
    reading(MON.plusDays(1), 14.0); // settles it: its id stays to stop duplicates
    harness.processElement(ScoredEvent.of(forecast(MON.plusDays(1), 3, 13.0)), 0L);
    assertThat(waiting(STATION)).isEqualTo(1);
    assertThat(remembered(STATION)).isEqualTo(2);

    // half a day later another series speaks; the first is still within its TTL
    harness.setProcessingTime(DAY_MS / 2);
    reading("OTHER", MON.plusYears(5), 10.0);
    harness.setProcessingTime(DAY_MS - 1);
    assertThat(seriesWith(ForecastEvaluator.STATE)).containsExactlyInAnyOrder(STATION, "OTHER");

    // a delisted ticker: a day after its last event its state goes, the other's stays
    harness.setProcessingTime(DAY_MS + 1);
    assertThat(harness.numKeyedStateEntries()).as("only the other series' state").isEqualTo(1);
    assertThat(seriesWith(ForecastEvaluator.STATE)).containsExactly("OTHER");
    assertThat(waiting(STATION)).isZero();
    assertThat(remembered(STATION)).isZero();
    assertThat(harness.extractOutputValues()).hasSize(1);

    // the other series, active since, keeps its state past its first timer
    reading("OTHER", MON.plusYears(5).plusDays(1), 11.0);
    harness.setProcessingTime(DAY_MS * 3 / 2 + 1);
    assertThat(seriesWith(ForecastEvaluator.STATE)).containsExactly("OTHER");
    harness.setProcessingTime(DAY_MS * 2 + 2);
    assertThat(harness.numKeyedStateEntries()).isZero();
  }

  @Test
  void aSeriesFarBehindAnotherIsStillScored() throws Exception {
    open(new ForecastEvaluator(JobConfig.defaultsOnly()));
    reading("OTHER", MON.plusYears(5), 10.0); // a live series years ahead of a backfill
    reading(MON, 12.0);
    harness.processElement(ScoredEvent.of(forecast(MON, 1, 13.25)), 0L);
    reading("OTHER", MON.plusYears(5).plusDays(1), 11.0);
    reading(MON.plusDays(1), 14.0);

    assertThat(harness.extractOutputValues())
        .containsExactly(evaluation(forecast(MON, 1, 13.25), MON.plusDays(1), 14.0, -0.75, -2.0));
    assertThat(evaluator.expiredForecasts()).isZero();
  }

  /** The gauges of model "weather" after {@code evaluations} of its version 3. */
  private static MetricListener gaugedAsVersion3(List<Evaluation> evaluations) {
    MetricListener metrics = new MetricListener();
    ForecastEvaluator.ModelAccuracy model =
        ForecastEvaluator.ModelAccuracy.registeredUnder(metrics.getMetricGroup(), "weather");
    for (Evaluation e : evaluations) {
      model.of(3).add(e);
      model.gaugeCoverageOf(e);
    }
    return metrics;
  }

  private static Object gauge(MetricListener metrics, String name) {
    return metrics.getGauge("model", "weather", name).orElseThrow().getValue();
  }

  @Test
  void aPendingForecastSurvivesARestore() throws Exception {
    open(new ForecastEvaluator(JobConfig.defaultsOnly()));
    reading(MON, 12.0);
    Forecast forecast = forecast(MON, 1, 13.25);
    harness.processElement(ScoredEvent.of(forecast), 0L);
    OperatorSubtaskState snapshot = harness.snapshot(1L, 1L);
    harness.close();

    harness = newHarness(evaluator = new ForecastEvaluator(JobConfig.defaultsOnly()));
    harness.initializeState(snapshot);
    harness.open();
    reading(MON.plusDays(1), 14.0);

    assertThat(harness.extractOutputValues())
        .containsExactly(evaluation(forecast, MON.plusDays(1), 14.0, -0.75, -2.0));
  }

  private void open(ForecastEvaluator function) throws Exception {
    evaluator = function;
    harness = newHarness(function);
    harness.open();
  }

  private static KeyedOneInputStreamOperatorTestHarness<String, ScoredEvent, Evaluation> newHarness(
      ForecastEvaluator function) throws Exception {
    return new KeyedOneInputStreamOperatorTestHarness<>(
        new KeyedProcessOperator<>(function), ScoredEvent::seriesId, Types.STRING);
  }

  private void reading(LocalDate day, double tempMax) throws Exception {
    reading(STATION, day, tempMax);
  }

  private void reading(String series, LocalDate day, double tempMax) throws Exception {
    harness.processElement(
        ScoredEvent.of(
            Reading.newBuilder()
                .setSeriesId(series)
                .setDay(day)
                .setFeatures(Map.of(TMAX, tempMax, "temp_min", 4.0))
                .setDomain("weather")
                .build()),
        0L);
  }

  /** The series that hold an entry in the named keyed state. */
  /** Forecasts of {@code series} waiting for their actual. */
  private int waiting(String series) throws Exception {
    SeriesEvaluation state = stateOf(series);
    return state == null ? 0 : state.waitingCount();
  }

  /** Versions and horizons {@code series} remembers the newest base day of. */
  private int remembered(String series) throws Exception {
    SeriesEvaluation state = stateOf(series);
    return state == null ? 0 : state.seenVersions.length;
  }

  private SeriesEvaluation stateOf(String series) throws Exception {
    harness.getOperator().setCurrentKey(series);
    return evaluator.currentState();
  }

  private List<String> seriesWith(String state) throws Exception {
    try (var keys =
        harness
            .getOperator()
            .<String>getKeyedStateBackend()
            .getKeys(state, VoidNamespace.INSTANCE)) {
      return keys.collect(Collectors.toList());
    }
  }

  private static Forecast forecast(LocalDate baseDay, int horizon, double value) {
    return forecast(baseDay, horizon, value, 3);
  }

  private static Forecast forecast(LocalDate baseDay, int horizon, double value, long version) {
    return Forecast.newBuilder()
        .setForecastId(ForecastIds.of(STATION, baseDay, horizon, "weather", version))
        .setSeriesId(STATION)
        .setBaseDay(baseDay)
        .setTargetDay(baseDay.plusDays(horizon))
        .setHorizon(horizon)
        .setTarget(TMAX)
        .setValue(value)
        .setModelName("weather")
        .setModelVersion(version)
        .setCreatedAt(CREATED)
        .build();
  }

  private static Evaluation evaluation(
      Forecast forecast,
      LocalDate targetDay,
      double actual,
      double error,
      Double persistenceError) {
    return Evaluation.newBuilder()
        .setForecastId(forecast.getForecastId())
        .setSeriesId(forecast.getSeriesId())
        .setTargetDay(targetDay)
        .setTarget(forecast.getTarget())
        .setPredicted(forecast.getValue())
        .setActual(actual)
        .setError(error)
        .setPersistenceError(persistenceError)
        .setModelName(forecast.getModelName())
        .setModelVersion(forecast.getModelVersion())
        .setHorizon(forecast.getHorizon())
        .build();
  }
}
