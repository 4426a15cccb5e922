package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;
import dev.forecaster.model.Conformal;
import dev.forecaster.model.ModelArtifact;
import dev.forecaster.model.ModelUpdates;
import dev.forecaster.schemas.ForecastIds;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BatchScoringOperatorTest {

  private static final String SEATTLE = "Seattle";
  private static final String PORTLAND = "Portland";

  /** Readings per window the job keeps: one more than the model reads, so the scorer has to cut. */
  private static final int ROWS = TinyModels.WINDOW + 1;

  private static final long HOUR_MS = 3_600_000L;
  private static final long DAY_MS = 86_400_000L;

  /** June 2013, after what the models trained on. */
  private static List<Reading> june;

  private final List<TwoInputStreamOperatorTestHarness<WindowReady, ModelUpdate, ScoredEvent>>
      open = new ArrayList<>();

  @BeforeAll
  static void readJune() throws Exception {
    june = JobFixture.seattle(LocalDate.of(2013, 6, 1), LocalDate.of(2013, 7, 1));
  }

  @AfterEach
  void closeHarnesses() throws Exception {
    for (var harness : List.copyOf(open)) {
      close(harness);
    }
  }

  @Test
  void windowsAreScoredInOneBatchWhenTheBatchIsFull() throws Exception {
    var harness = harness(Map.of("batch.size", "4", "batch.timeout.ms", Long.toString(HOUR_MS)));
    ModelUpdate model = TinyModels.update(42, 1);
    serve(harness, model);

    send(harness, seattleUpTo(10));
    send(harness, seattleUpTo(11));
    send(harness, seattleUpTo(12));
    assertThat(forecasts(harness)).isEmpty();

    send(harness, seattleUpTo(13));

    assertScored(
        forecasts(harness),
        model,
        List.of(seattleUpTo(10), seattleUpTo(11), seattleUpTo(12), seattleUpTo(13)));
    // event time of a forecast (and of the actual after it): its base day
    List<Long> days =
        List.of(dayMs(june.get(9)), dayMs(june.get(10)), dayMs(june.get(11)), dayMs(june.get(12)));
    List<Long> both = new ArrayList<>(days);
    both.addAll(days);
    assertThat(harness.extractOutputStreamRecords())
        .extracting(StreamRecord::getTimestamp)
        .containsExactlyElementsOf(both);
  }

  @Test
  void servedIntervalsRollOnWithTheResidualsOfTheSubtasksOwnForecasts() throws Exception {
    var harness = harness(Map.of("batch.size", "1"));
    List<Double> tight = new ArrayList<>(); // validation residuals of a few hundredths of a degree
    for (int i = 0; i < Conformal.ROLLING; i++) {
      tight.add((i % 10) * 0.02 - 0.09);
    }
    ModelUpdate model = TinyModels.calibrated(TinyModels.update(42, 1), tight);
    serve(harness, model);

    for (int n = ROWS; n <= june.size(); n++) {
      send(harness, seattleUpTo(n));
    }

    List<Forecast> forecasts = forecasts(harness);
    assertThat(forecasts).hasSize(june.size() - ROWS + 1);
    Forecast first = forecasts.get(0);
    Forecast last = forecasts.get(forecasts.size() - 1);
    assertThat(first.getIntervals())
        .containsExactlyElementsOf(
            BatchScoringOperator.intervals(Conformal.bands(toArray(tight)), first.getValue()));
    // a day's error of the small model is degrees, not hundredths: the 95% band widens
    assertThat(width(last, 0.95)).isGreaterThan(1.0).isGreaterThan(10 * width(first, 0.95));
  }

  @Test
  void aModelOfSeveralHorizonsForecastsEachOneFromEveryWindowInOneBatch() throws Exception {
    var harness = harness(Map.of("batch.size", "2", "batch.timeout.ms", Long.toString(HOUR_MS)));
    ModelUpdate model = TinyModels.horizons(42, 3, 1, List.of());
    serve(harness, model);

    send(harness, seattleUpTo(10));
    send(harness, seattleUpTo(11));

    double[][] offline = TinyModels.offlineAll(model, List.of(seattleUpTo(10), seattleUpTo(11)));
    List<Forecast> forecasts = forecasts(harness);
    assertThat(forecasts).hasSize(2 * 3);
    for (int i = 0; i < 2; i++) {
      LocalDate base = june.get(9 + i).getDay();
      for (int h = 1; h <= 3; h++) {
        Forecast f = forecasts.get(i * 3 + h - 1);
        assertThat(f.getBaseDay()).isEqualTo(base);
        assertThat(f.getHorizon()).isEqualTo(h);
        assertThat(f.getTargetDay()).isEqualTo(base.plusDays(h));
        assertThat(f.getForecastId())
            .isEqualTo(ForecastIds.of("Seattle", base, h, TinyModels.NAME, 1));
        assertThat(f.getValue()).isCloseTo(offline[i][h - 1], within(1e-5));
      }
      // three networks, three different forecasts
      assertThat(offline[i][0]).isNotCloseTo(offline[i][1], within(1e-3));
    }
  }

  @Test
  void eachHorizonsServedIntervalsRollOnWithItsOwnResiduals() throws Exception {
    var harness = harness(Map.of("batch.size", "1"));
    List<Double> tight = new ArrayList<>();
    for (int i = 0; i < Conformal.ROLLING; i++) {
      tight.add((i % 10) * 0.02 - 0.09);
    }
    ModelUpdate model = TinyModels.horizons(42, 3, 1, tight);
    serve(harness, model);

    for (int n = ROWS; n <= june.size(); n++) {
      send(harness, seattleUpTo(n));
    }

    List<Forecast> forecasts = forecasts(harness);
    for (int h = 1; h <= 3; h++) {
      int horizon = h;
      List<Forecast> own = forecasts.stream().filter(f -> f.getHorizon() == horizon).toList();
      assertThat(own).hasSize(june.size() - ROWS + 1);
      // a day's error is degrees, not hundredths: each horizon's 95% band widens as its own
      // forecasts meet their actuals, h readings after their base day
      assertThat(width(own.get(own.size() - 1), 0.95))
          .as("horizon %d", h)
          .isGreaterThan(1.0)
          .isGreaterThan(10 * width(own.get(0), 0.95));
    }
  }

  @Test
  void windowsOfOneSeriesInOneBatchEachSettleTheForecastsBeforeThem() throws Exception {
    // a replay burst: each batch holds eight consecutive windows of one series
    var harness = harness(Map.of("batch.size", "8", "batch.timeout.ms", Long.toString(HOUR_MS)));
    List<Double> tight = new ArrayList<>();
    for (int i = 0; i < Conformal.ROLLING; i++) {
      tight.add((i % 10) * 0.02 - 0.09);
    }
    serve(harness, TinyModels.calibrated(TinyModels.update(42, 1), tight));

    for (int n = ROWS; n < ROWS + 24; n++) {
      send(harness, seattleUpTo(n));
    }

    List<Forecast> forecasts = forecasts(harness);
    assertThat(forecasts).hasSize(24);
    // the first batch is served with the trainer's residuals; the third with the residuals the
    // first two settled (8 + 8, of which one when its window came and the others in window order
    // at their batch's end): more than the 5% beyond the 95% band of the tight ones
    assertThat(forecasts.get(0).getIntervals())
        .containsExactlyElementsOf(
            BatchScoringOperator.intervals(
                Conformal.bands(toArray(tight)), forecasts.get(0).getValue()));
    assertThat(width(forecasts.get(23), 0.95)).isGreaterThan(10 * width(forecasts.get(0), 0.95));
  }

  private static double width(Forecast f, double level) {
    return f.getIntervals().stream()
        .filter(i -> i.getLevel() == level)
        .mapToDouble(i -> i.getUpper() - i.getLower())
        .findFirst()
        .orElseThrow();
  }

  private static double[] toArray(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).toArray();
  }

  @Test
  void aPartialBatchIsFlushedWhenTheTimerFires() throws Exception {
    var harness = harness(Map.of("batch.size", "4", "batch.timeout.ms", "1000"));
    ModelUpdate model = TinyModels.update(42, 1);
    serve(harness, model);
    harness.setProcessingTime(5_000);

    send(harness, seattleUpTo(10));
    harness.setProcessingTime(5_500);
    send(harness, seattleUpTo(11));
    // the timer runs from the batch's first window
    assertThat(harness.getProcessingTimeService().getActiveTimerTimestamps())
        .containsExactly(6_000L);
    harness.setProcessingTime(5_999);
    assertThat(forecasts(harness)).isEmpty();

    harness.setProcessingTime(6_000);
    assertScored(forecasts(harness), model, List.of(seattleUpTo(10), seattleUpTo(11)));
    assertThat(harness.getProcessingTimeService().getActiveTimerTimestamps()).isEmpty();

    // the next batch gets a timer of its own
    send(harness, seattleUpTo(12));
    harness.setProcessingTime(6_999);
    assertThat(forecasts(harness)).hasSize(2);
    harness.setProcessingTime(7_000);
    assertScored(
        forecasts(harness), model, List.of(seattleUpTo(10), seattleUpTo(11), seattleUpTo(12)));
  }

  @Test
  void aCheckpointFlushesTheBufferBeforeTheBarrier() throws Exception {
    var harness = harness(Map.of("batch.size", "4", "batch.timeout.ms", Long.toString(HOUR_MS)));
    ModelUpdate model = TinyModels.update(42, 1);
    serve(harness, model);
    send(harness, seattleUpTo(10));
    send(harness, seattleUpTo(11));
    assertThat(forecasts(harness)).isEmpty();

    harness.prepareSnapshotPreBarrier(1L);
    assertScored(forecasts(harness), model, List.of(seattleUpTo(10), seattleUpTo(11)));
    OperatorSubtaskState snapshot = harness.snapshot(1L, 1L);

    // nothing stayed in the buffer: the batch timer finds it empty, and a restore has nothing to
    // replay
    harness.setProcessingTime(2 * HOUR_MS);
    assertThat(forecasts(harness)).hasSize(2);
    close(harness);
    var restored =
        restore(Map.of("batch.size", "4", "batch.timeout.ms", Long.toString(HOUR_MS)), snapshot);
    restored.setProcessingTime(2 * HOUR_MS);
    restored.prepareSnapshotPreBarrier(2L);
    assertThat(forecasts(restored)).isEmpty();
  }

  @Test
  void windowsBeforeAnyModelWaitAndAreAllScoredInOrderWhenItArrives() throws Exception {
    var harness = harness(Map.of("batch.size", "2", "batch.timeout.ms", Long.toString(HOUR_MS)));
    send(harness, seattleUpTo(10));
    send(harness, portland(seattleUpTo(10)));
    send(harness, seattleUpTo(11));
    assertThat(forecasts(harness)).isEmpty();

    ModelUpdate model = TinyModels.update(42, 1);
    serve(harness, model);
    harness.prepareSnapshotPreBarrier(1L);

    assertScored(
        forecasts(harness),
        model,
        List.of(seattleUpTo(10), portland(seattleUpTo(10)), seattleUpTo(11)));
    // nothing waits any more
    serve(harness, TinyModels.update(42, 2));
    harness.prepareSnapshotPreBarrier(2L);
    assertThat(forecasts(harness)).hasSize(3);
  }

  @Test
  void beyondTheLimitTheOldestWaitingWindowsAreDroppedAndCounted() throws Exception {
    var harness = harness(Map.of("batch.size", "1", "scoring.max-waiting-windows", "2"));
    send(harness, seattleUpTo(10));
    send(harness, seattleUpTo(11));
    send(harness, seattleUpTo(12));
    // the dropped window's actual goes out when it is dropped: every actual once
    assertThat(actuals(harness)).containsExactly(actual(june.get(9)));

    ModelUpdate model = TinyModels.update(42, 1);
    serve(harness, model);

    assertScored(forecasts(harness), model, List.of(seattleUpTo(11), seattleUpTo(12)));
    assertThat(actuals(harness))
        .containsExactly(actual(june.get(9)), actual(june.get(10)), actual(june.get(11)));
  }

  @Test
  void aWindowWaitingForItsModelSurvivesARestore() throws Exception {
    Map<String, String> settings = Map.of("batch.size", "1");
    var harness = harness(settings);
    send(harness, seattleUpTo(10));
    harness.prepareSnapshotPreBarrier(1L);
    OperatorSubtaskState snapshot = harness.snapshot(1L, 1L);
    close(harness);

    var restored = restore(settings, snapshot);
    ModelUpdate model = TinyModels.update(42, 1);
    serve(restored, model);

    assertScored(forecasts(restored), model, List.of(seattleUpTo(10)));
  }

  @Test
  void afterARescaleEachWaitingWindowIsScoredOnceByTheSubtaskThatOwnsItsSeries() throws Exception {
    Map<String, String> settings = Map.of("batch.size", "1");
    var harness = harness(settings);
    List<String> series = List.of("s-a", "s-b", "s-c", "s-d", "s-e", "s-f");
    for (String id : series) {
      send(
          harness,
          seattleUpTo(10).stream()
              .map(r -> Reading.newBuilder(r).setSeriesId(id).build())
              .toList());
    }
    harness.prepareSnapshotPreBarrier(1L);
    OperatorSubtaskState snapshot = harness.snapshot(1L, 1L);
    close(harness);

    ModelUpdate model = TinyModels.update(42, 1);
    List<String> scored = new ArrayList<>();
    for (int subtask = 0; subtask < 2; subtask++) {
      var restored = subtaskOfTwo(subtask);
      restored.initializeState(
          AbstractStreamOperatorTestHarness.repartitionOperatorState(snapshot, 128, 1, 2, subtask));
      restored.open();
      serve(restored, model);
      for (Forecast f : forecasts(restored)) {
        assertThat(KeyGroupRangeAssignment.assignKeyToParallelOperator(f.getSeriesId(), 128, 2))
            .isEqualTo(subtask);
        scored.add(f.getSeriesId());
      }
    }
    assertThat(scored).containsExactlyInAnyOrderElementsOf(series);
  }

  @Test
  void aNewerModelReplacesTheOlderAndForecastsCarryItsVersion() throws Exception {
    int loadedBefore = SharedModels.loadedVersions();
    var harness = harness(Map.of("batch.size", "4", "batch.timeout.ms", Long.toString(HOUR_MS)));
    ModelUpdate v1 = TinyModels.update(42, 1);
    ModelUpdate v2 = TinyModels.update(43, 2); // other weights
    serve(harness, v1);
    send(harness, seattleUpTo(10));

    serve(harness, v2);
    // the window buffered under v1 is scored by v1 before v2 takes over
    List<Forecast> forecasts = forecasts(harness);
    assertScored(forecasts, v1, List.of(seattleUpTo(10)));
    assertThat(loadedVersionsOnceAt(loadedBefore + 1))
        .as("v1 is closed")
        .isEqualTo(loadedBefore + 1);

    send(harness, seattleUpTo(11));
    send(harness, seattleUpTo(12));
    harness.prepareSnapshotPreBarrier(1L);

    forecasts = forecasts(harness);
    assertThat(forecasts).hasSize(3);
    assertScored(forecasts.subList(1, 3), v2, List.of(seattleUpTo(11), seattleUpTo(12)));
  }

  @Test
  void aNewVersionLoadsOffTheTaskThreadWhileTheOneInServiceGoesOnScoring() throws Exception {
    int loadedBefore = SharedModels.loadedVersions();
    var harness = harness(Map.of("batch.size", "1"));
    ModelUpdate v1 = TinyModels.update(42, 1);
    ModelUpdate v2 = TinyModels.update(43, 2);
    serve(harness, v1);

    harness.processElement2(v2, 0L);
    // loaded while this (the task's) thread runs no mail: by the loader thread
    assertThat(loadedVersionsOnceAt(loadedBefore + 2)).isEqualTo(loadedBefore + 2);
    send(harness, seattleUpTo(10));
    assertScored(forecasts(harness), v1, List.of(seattleUpTo(10)));

    operator(harness).awaitModelLoads(); // its install, from the task's mailbox
    send(harness, seattleUpTo(11));
    List<Forecast> forecasts = forecasts(harness);
    assertThat(forecasts).hasSize(2);
    assertScored(forecasts.subList(1, 2), v2, List.of(seattleUpTo(11)));
    assertThat(loadedVersionsOnceAt(loadedBefore + 1)).as("v1 closed").isEqualTo(loadedBefore + 1);
  }

  @Test
  void windowsArrivingWhileTheFirstVersionLoadsWaitForItInsteadOfOverflowing() throws Exception {
    var harness = harness(Map.of("batch.size", "1", "scoring.max-waiting-windows", "2"));
    ModelUpdate v1 = TinyModels.update(42, 1);
    harness.processElement2(v1, 0L); // loads on the loader thread; nothing serves yet
    List<List<Reading>> windows = new ArrayList<>();
    for (int day = 10; day < 15; day++) { // more than may wait
      windows.add(seattleUpTo(day));
      send(harness, seattleUpTo(day));
    }

    assertScored(forecasts(harness), v1, windows);
    assertThat(operator(harness).waitingWindowsDropped()).isZero();
  }

  @Test
  void versionsAskedForTogetherServeInOrderAndACheckpointKeepsTheNewest() throws Exception {
    int loadedBefore = SharedModels.loadedVersions();
    Map<String, String> settings = Map.of("batch.size", "1");
    var harness = harness(settings);
    ModelUpdate v1 = TinyModels.update(42, 1);
    ModelUpdate v2 = TinyModels.update(43, 2);
    ModelUpdate v3 = TinyModels.update(44, 3);
    serve(harness, v1);
    harness.processElement2(v2, 0L);
    harness.processElement2(v3, 0L);
    harness.processElement2(v2, 0L); // older than the newest asked for: ignored
    send(harness, seattleUpTo(10)); // while they load, v1 serves
    assertScored(forecasts(harness), v1, List.of(seattleUpTo(10)));
    OperatorSubtaskState snapshot = harness.snapshot(1L, 1L); // v1 serves, v3 asked for

    operator(harness).awaitModelLoads();
    send(harness, seattleUpTo(11));
    assertScored(forecasts(harness).subList(1, 2), v3, List.of(seattleUpTo(11)));
    assertThat(loadedVersionsOnceAt(loadedBefore + 1))
        .as("v1 and v2 closed")
        .isEqualTo(loadedBefore + 1);
    close(harness);
    assertThat(loadedVersionsOnceAt(loadedBefore)).isEqualTo(loadedBefore);

    var restored = restore(settings, snapshot);
    send(restored, seattleUpTo(12));
    assertScored(forecasts(restored), v3, List.of(seattleUpTo(12)));
  }

  @Test
  void aVersionThatLoadsServesWhenTheNewerOneAskedForMeanwhileDoesNot() throws Exception {
    var harness = harness(Map.of("batch.size", "1"));
    ModelUpdate v1 = TinyModels.update(42, 1);
    ModelUpdate v2 = TinyModels.update(43, 2);
    ModelUpdate corrupt = TinyModels.update(44, 3);
    corrupt.setSha256("0".repeat(64)); // its bytes no longer match: it never loads
    serve(harness, v1);
    harness.processElement2(v2, 0L);
    harness.processElement2(corrupt, 0L);

    operator(harness).awaitModelLoads();
    send(harness, seattleUpTo(10));
    assertScored(forecasts(harness), v2, List.of(seattleUpTo(10)));
    assertThat(operator(harness).modelUpdatesRejected()).isEqualTo(1);
  }

  @Test
  void aRestoreFallsBackToTheVersionInServiceWhenTheNewestAskedForDoesNotLoad() throws Exception {
    int loadedBefore = SharedModels.loadedVersions();
    Map<String, String> settings = Map.of("batch.size", "1");
    var harness = harness(settings);
    ModelUpdate v1 = TinyModels.update(42, 1);
    ModelUpdate corrupt = TinyModels.update(43, 2);
    corrupt.setSha256("0".repeat(64)); // its bytes no longer match: it never loads
    serve(harness, v1);
    harness.processElement2(corrupt, 0L);
    OperatorSubtaskState snapshot = harness.snapshot(1L, 1L); // v1 serves, v2 asked for
    close(harness); // while v2 loads, perhaps: nothing of it stays loaded
    assertThat(loadedVersionsOnceAt(loadedBefore)).isEqualTo(loadedBefore);

    var restored = restore(settings, snapshot);
    assertThat(operator(restored).modelUpdatesRejected()).as("v2 tried first").isEqualTo(1);
    send(restored, seattleUpTo(10));
    assertScored(forecasts(restored), v1, List.of(seattleUpTo(10)));
  }

  @Test
  void anOlderOrEqualVersionIsIgnored() throws Exception {
    ModelUpdate serving = TinyModels.update(42, 2);
    ModelUpdate older = TinyModels.update(43, 1);
    ModelUpdate sameVersionOtherWeights = TinyModels.update(43, 2);
    double byServing = TinyModels.offline(serving, List.of(seattleUpTo(10)))[0];
    double byOther = TinyModels.offline(sameVersionOtherWeights, List.of(seattleUpTo(10)))[0];
    assertThat(Math.abs(byServing - byOther)).as("the two models tell apart").isGreaterThan(1e-3);

    int loadedBefore = SharedModels.loadedVersions();
    var harness = harness(Map.of("batch.size", "1"));
    serve(harness, serving);
    serve(harness, older);
    serve(harness, sameVersionOtherWeights);
    send(harness, seattleUpTo(10));

    assertScored(forecasts(harness), serving, List.of(seattleUpTo(10)));
    assertThat(loadedVersionsOnceAt(loadedBefore + 1))
        .as("the ignored ones were never loaded")
        .isEqualTo(loadedBefore + 1);
  }

  @Test
  void aCorruptModelUpdateIsRejectedAndTheOldOneKeepsServing() throws Exception {
    ModelUpdate v1 = TinyModels.update(42, 1);
    ModelUpdate wrongChecksum =
        ModelUpdate.newBuilder(TinyModels.update(43, 2))
            .setSha256(ModelArtifact.sha256("another artifact".getBytes(StandardCharsets.UTF_8)))
            .build();
    byte[] flipped = ModelUpdates.artifactBytes(TinyModels.update(43, 3));
    flipped[flipped.length / 2] ^= 0x01;
    ModelUpdate damagedArtifact =
        ModelUpdate.newBuilder(TinyModels.update(43, 3))
            .setArtifact(ByteBuffer.wrap(flipped))
            .build();
    // intact artifact, but the record says it reads another window than the artifact's network
    ModelUpdate recordDisagrees =
        ModelUpdate.newBuilder(TinyModels.update(43, 4)).setWindowLength(3).build();

    int loadedBefore = SharedModels.loadedVersions();
    var harness = harness(Map.of("batch.size", "1"));
    serve(harness, v1);
    serve(harness, wrongChecksum);
    serve(harness, damagedArtifact);
    serve(harness, recordDisagrees);
    send(harness, seattleUpTo(10));

    assertScored(forecasts(harness), v1, List.of(seattleUpTo(10)));
    assertThat(loadedVersionsOnceAt(loadedBefore + 1)).isEqualTo(loadedBefore + 1);

    // a sound v5 after them is taken
    ModelUpdate v5 = TinyModels.update(43, 5);
    serve(harness, v5);
    send(harness, seattleUpTo(11));
    assertScored(forecasts(harness).subList(1, 2), v5, List.of(seattleUpTo(11)));
  }

  @Test
  void theActualOfEachWindowFollowsItsForecastOnTheSameStream() throws Exception {
    var harness = harness(Map.of("batch.size", "2", "batch.timeout.ms", Long.toString(HOUR_MS)));
    serve(harness, TinyModels.update(42, 1));

    send(harness, seattleUpTo(10));
    assertThat(actuals(harness)).as("the forecast is still buffered").isEmpty();
    send(harness, seattleUpTo(11));

    assertThat(forecasts(harness)).hasSize(2);
    assertThat(actuals(harness)).containsExactly(actual(june.get(9)), actual(june.get(10)));
    assertThat(actualTimestamps(harness)).containsExactly(dayMs(june.get(9)), dayMs(june.get(10)));
    // on the one output stream each actual comes after the forecasts of its batch
    assertThat(kinds(harness)).containsExactly("forecast", "forecast", "actual", "actual");

    // windows that cannot be scored still settle earlier forecasts, at once
    List<Reading> tooShort = june.subList(11, 13);
    List<Reading> noWind =
        june.subList(8, 14).stream()
            .map(
                r -> {
                  Map<String, Double> features = new HashMap<>(r.getFeatures());
                  features.remove("wind");
                  return Reading.newBuilder(r).setFeatures(features).build();
                })
            .toList();
    send(harness, tooShort);
    send(harness, noWind);
    assertThat(forecasts(harness)).hasSize(2);
    assertThat(actuals(harness))
        .containsExactly(
            actual(june.get(9)),
            actual(june.get(10)),
            actual(june.get(12)),
            actual(noWind.get(noWind.size() - 1)));
  }

  @Test
  void theActualOfAWindowNotScoredDoesNotOvertakeTheBufferedWindowsOfItsSeries() throws Exception {
    var harness = harness(Map.of("batch.size", "4", "batch.timeout.ms", Long.toString(HOUR_MS)));
    serve(harness, TinyModels.update(42, 1));
    send(harness, seattleUpTo(10));
    send(harness, seattleUpTo(11));
    // after a gap the series starts a new window: too short to score, its actual is newer than
    // the buffered windows' (the evaluator would drop their forecasts had it come first)
    send(harness, june.subList(14, 16));
    assertThat(kinds(harness)).as("nothing overtakes the buffer").isEmpty();

    // and the series' next complete window joins the same batch: its reading is newer still
    send(harness, june.subList(14, 14 + ROWS));

    harness.prepareSnapshotPreBarrier(1L);

    assertThat(kinds(harness))
        .containsExactly(
            "forecast", "forecast", "forecast", "actual", "actual", "actual", "actual");
    assertThat(actuals(harness))
        .as("every actual in the order its window came")
        .containsExactly(
            actual(june.get(9)),
            actual(june.get(10)),
            actual(june.get(15)),
            actual(june.get(14 + ROWS - 1)));
  }

  @Test
  void aWaitingWindowsActualIsEmittedOnceAfterItsForecast() throws Exception {
    var harness = harness(Map.of("batch.size", "1"));
    send(harness, seattleUpTo(10));
    send(harness, seattleUpTo(11));
    assertThat(kinds(harness)).as("the actuals wait with their windows").isEmpty();

    serve(harness, TinyModels.update(42, 1));

    assertThat(forecasts(harness)).hasSize(2);
    assertThat(actuals(harness)).containsExactly(actual(june.get(9)), actual(june.get(10)));
    // as for any window: the evaluator meets each forecast before the reading after it
    assertThat(kinds(harness)).containsExactly("forecast", "actual", "forecast", "actual");
  }

  @Test
  void aWatermarkDoesNotOvertakeTheForecastsStillBuffered() throws Exception {
    var harness = harness(Map.of("batch.size", "4", "batch.timeout.ms", Long.toString(HOUR_MS)));
    serve(harness, TinyModels.update(42, 1));
    send(harness, seattleUpTo(10));
    harness.processWatermark1(new Watermark(dayMs(june.get(9))));

    harness.prepareSnapshotPreBarrier(1L);

    assertThat(kinds(harness)).containsExactly("forecast", "actual", "watermark");
  }

  @Test
  void theServedModelSurvivesARestore() throws Exception {
    Map<String, String> settings = Map.of("batch.size", "1");
    var harness = harness(settings);
    ModelUpdate model = TinyModels.update(42, 1);
    serve(harness, model);
    send(harness, seattleUpTo(10));
    assertThat(forecasts(harness)).hasSize(1);
    harness.prepareSnapshotPreBarrier(1L);
    OperatorSubtaskState snapshot = harness.snapshot(1L, 1L);
    close(harness);

    var restored = restore(settings, snapshot);
    send(restored, seattleUpTo(11));

    assertScored(forecasts(restored), model, List.of(seattleUpTo(11)));
  }

  @Test
  void onlyTheFirstSubtaskCheckpointsTheModelAndARestoreGivesItToEverySubtask() throws Exception {
    ModelUpdate model = TinyModels.update(42, 1);
    OperatorSubtaskState both = servedAndSnapshotByTwoSubtasks(model, false);
    for (int subtask = 0; subtask < 2; subtask++) {
      var restored = subtaskOfTwo(subtask);
      restored.initializeState(
          AbstractStreamOperatorTestHarness.repartitionOperatorState(both, 128, 2, 2, subtask));
      restored.open();
      send(restored, seattleUpTo(11)); // no model sent: only the restored one can score it

      assertScored(forecasts(restored), model, List.of(seattleUpTo(11)));
    }
  }

  @Test
  void theVersionReplacedIsKeptAsTheFallbackAndStaysSoAfterARestore() throws Exception {
    Map<String, String> settings = Map.of("batch.size", "1");
    ModelUpdate v1 = TinyModels.update(42, 1);
    ModelUpdate v2 = TinyModels.update(43, 2);
    int loadedBefore = SharedModels.loadedVersions();
    var swapped = harness(settings);
    serve(swapped, v1);
    serve(swapped, v2); // another subtask may still serve v1 at this checkpoint
    assertThat(operator(swapped).modelsToCheckpoint())
        .extracting(ModelUpdate::getVersion)
        .containsExactly(2L, 1L);
    OperatorSubtaskState snapshot = swapped.snapshot(1L, 1L);
    close(swapped);

    var restored = restore(settings, snapshot);
    send(restored, seattleUpTo(10));
    assertScored(forecasts(restored), v2, List.of(seattleUpTo(10)));
    assertThat(loadedVersionsOnceAt(loadedBefore + 1))
        .as("v1 kept, not loaded")
        .isEqualTo(loadedBefore + 1);
    assertThat(operator(restored).modelsToCheckpoint())
        .as("still the fallback after the restore")
        .extracting(ModelUpdate::getVersion)
        .containsExactly(2L, 1L);
  }

  @Test
  void withUnalignedCheckpointsEverySubtaskCheckpointsTheModel() throws Exception {
    servedAndSnapshotByTwoSubtasks(TinyModels.update(42, 1), true);
  }

  /**
   * Two subtasks of a job of parallelism 2 serve {@code model} and take a checkpoint; asserts which
   * of them wrote the model's artifact, and returns both snapshots as one.
   */
  private OperatorSubtaskState servedAndSnapshotByTwoSubtasks(ModelUpdate model, boolean unaligned)
      throws Exception {
    long artifact = model.getArtifact().remaining();
    List<OperatorSubtaskState> snapshots = new ArrayList<>();
    for (int subtask = 0; subtask < 2; subtask++) {
      var harness = subtaskOfTwo(subtask);
      // as the job's configuration reaches a task: checkpoints every 5 s, exactly once
      var job = harness.getEnvironment().getJobConfiguration();
      job.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(5));
      job.set(CheckpointingOptions.ENABLE_UNALIGNED, unaligned);
      harness.open();
      serve(harness, model);
      harness.prepareSnapshotPreBarrier(1L);
      snapshots.add(harness.snapshot(1L, 1L));
      close(harness);
    }
    // the two snapshots differ only by what each wrote besides the same serializers' snapshots
    long first = snapshots.get(0).getStateSize();
    long second = snapshots.get(1).getStateSize();
    if (unaligned) {
      assertThat(second).as("the second subtask's checkpoint").isGreaterThan(first - artifact);
    } else {
      assertThat(second).as("the second subtask's checkpoint").isLessThan(first - artifact);
    }
    return AbstractStreamOperatorTestHarness.repackageState(
        snapshots.toArray(OperatorSubtaskState[]::new));
  }

  private TwoInputStreamOperatorTestHarness<WindowReady, ModelUpdate, ScoredEvent> subtaskOfTwo(
      int subtask) throws Exception {
    var harness =
        new TwoInputStreamOperatorTestHarness<>(
            new BatchScoringOperator(
                JobConfig.of(
                    Map.of(
                        "device",
                        "cpu",
                        "window.length",
                        Integer.toString(ROWS),
                        "batch.size",
                        "1"))),
            128,
            2,
            subtask);
    open.add(harness);
    return harness;
  }

  @Test
  void aModelIsClosedWhenItsLastUserLetsGo() throws Exception {
    ModelUpdate v1 = TinyModels.update(42, 1);
    ModelUpdate v2 = TinyModels.update(42, 2);
    int loadedBefore = SharedModels.loadedVersions();
    // two subtasks of one task manager
    var first = harness(Map.of("batch.size", "1"));
    var second = harness(Map.of("batch.size", "1"));
    serve(first, v1);
    serve(second, v1);
    assertThat(loadedVersionsOnceAt(loadedBefore + 1))
        .as("one copy for both")
        .isEqualTo(loadedBefore + 1);

    close(first);
    assertThat(loadedVersionsOnceAt(loadedBefore + 1)).isEqualTo(loadedBefore + 1);
    send(second, seattleUpTo(10));
    assertScored(forecasts(second), v1, List.of(seattleUpTo(10)));

    serve(second, v2);
    assertThat(loadedVersionsOnceAt(loadedBefore + 1))
        .as("v1 let go, v2 loaded")
        .isEqualTo(loadedBefore + 1);
    close(second);
    assertThat(loadedVersionsOnceAt(loadedBefore)).isEqualTo(loadedBefore);
  }

  private TwoInputStreamOperatorTestHarness<WindowReady, ModelUpdate, ScoredEvent> harness(
      Map<String, String> settings) throws Exception {
    var harness = newHarness(settings);
    harness.open();
    return harness;
  }

  private TwoInputStreamOperatorTestHarness<WindowReady, ModelUpdate, ScoredEvent> restore(
      Map<String, String> settings, OperatorSubtaskState snapshot) throws Exception {
    var harness = newHarness(settings);
    harness.initializeState(snapshot);
    harness.open();
    return harness;
  }

  private TwoInputStreamOperatorTestHarness<WindowReady, ModelUpdate, ScoredEvent> newHarness(
      Map<String, String> settings) throws Exception {
    Map<String, String> all =
        new HashMap<>(Map.of("device", "cpu", "window.length", Integer.toString(ROWS)));
    all.putAll(settings);
    var harness =
        new TwoInputStreamOperatorTestHarness<>(new BatchScoringOperator(JobConfig.of(all)));
    open.add(harness);
    return harness;
  }

  /**
   * The versions loaded in this JVM once they are {@code expected}, or after a minute: an old
   * version is closed on its operator's loader thread, a new one loaded there.
   */
  private static int loadedVersionsOnceAt(int expected) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (SharedModels.loadedVersions() != expected && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    return SharedModels.loadedVersions();
  }

  private static BatchScoringOperator operator(
      TwoInputStreamOperatorTestHarness<WindowReady, ModelUpdate, ScoredEvent> harness) {
    return (BatchScoringOperator) harness.getOperator();
  }

  /** A model update on the second input, installed once loaded (off the task's thread). */
  private static void serve(
      TwoInputStreamOperatorTestHarness<WindowReady, ModelUpdate, ScoredEvent> harness,
      ModelUpdate update)
      throws Exception {
    harness.processElement2(update, 0L);
    operator(harness).awaitModelLoads();
  }

  private void close(
      TwoInputStreamOperatorTestHarness<WindowReady, ModelUpdate, ScoredEvent> harness)
      throws Exception {
    open.remove(harness);
    harness.close();
  }

  /**
   * The window of Seattle's readings up to June {@code day}, 2013, as the window function emits it.
   */
  private static List<Reading> seattleUpTo(int day) {
    return june.subList(day - ROWS, day);
  }

  private static List<Reading> portland(List<Reading> readings) {
    return readings.stream().map(r -> Reading.newBuilder(r).setSeriesId(PORTLAND).build()).toList();
  }

  private static void send(
      TwoInputStreamOperatorTestHarness<WindowReady, ModelUpdate, ScoredEvent> harness,
      List<Reading> readings)
      throws Exception {
    Reading last = readings.get(readings.size() - 1);
    harness.processElement1(windowOf(readings), dayMs(last));
  }

  /** As {@link SeriesWindowFunction} emits it: every feature, names sorted, oldest row first. */
  private static WindowReady windowOf(List<Reading> readings) {
    String[] names =
        readings.get(0).getFeatures().keySet().stream().sorted().toArray(String[]::new);
    WindowReady w = new WindowReady();
    w.seriesId = readings.get(0).getSeriesId();
    w.modelName = TinyModels.NAME;
    w.featureNames = names;
    w.epochDays = new int[readings.size()];
    w.values = new double[readings.size() * names.length];
    for (int r = 0; r < readings.size(); r++) {
      w.epochDays[r] = (int) readings.get(r).getDay().toEpochDay();
      for (int f = 0; f < names.length; f++) {
        w.values[r * names.length + f] = readings.get(r).getFeatures().get(names[f]);
      }
    }
    return w;
  }

  /** Forecasts are, in order, the model's offline forecasts of these windows, with their ids. */
  private static void assertScored(
      List<Forecast> forecasts, ModelUpdate model, List<List<Reading>> windows) throws Exception {
    double[] offline = TinyModels.offline(model, windows);
    assertThat(forecasts).hasSize(windows.size());
    for (int i = 0; i < windows.size(); i++) {
      Forecast f = forecasts.get(i);
      Reading base = windows.get(i).get(windows.get(i).size() - 1);
      assertThat(f.getForecastId())
          .isEqualTo(
              ForecastIds.of(
                  base.getSeriesId(), base.getDay(), 1, TinyModels.NAME, model.getVersion()));
      assertThat(f.getSeriesId()).isEqualTo(base.getSeriesId());
      assertThat(f.getBaseDay()).isEqualTo(base.getDay());
      assertThat(f.getTargetDay()).isEqualTo(base.getDay().plusDays(1));
      assertThat(f.getHorizon()).isEqualTo(1);
      assertThat(f.getTarget()).isEqualTo("temp_max");
      assertThat(f.getModelName()).isEqualTo(TinyModels.NAME);
      assertThat(f.getModelVersion()).isEqualTo(model.getVersion());
      assertThat(f.getCreatedAt()).isNotNull();
      assertThat(f.getValue())
          .as("forecast from %s", base.getDay())
          .isCloseTo(offline[i], within(1e-5));
    }
  }

  private static List<Forecast> forecasts(
      TwoInputStreamOperatorTestHarness<WindowReady, ModelUpdate, ScoredEvent> h) {
    return h.extractOutputValues().stream()
        .filter(e -> e.forecast != null)
        .map(e -> e.forecast)
        .toList();
  }

  private static List<Reading> actuals(
      TwoInputStreamOperatorTestHarness<WindowReady, ModelUpdate, ScoredEvent> h) {
    return h.extractOutputValues().stream()
        .filter(e -> e.actual != null)
        .map(e -> e.actual)
        .toList();
  }

  @SuppressWarnings("unchecked")
  private static List<Long> actualTimestamps(
      TwoInputStreamOperatorTestHarness<WindowReady, ModelUpdate, ScoredEvent> h) {
    return h.getOutput().stream()
        .filter(e -> e instanceof StreamRecord)
        .map(e -> (StreamRecord<ScoredEvent>) e)
        .filter(r -> r.getValue().actual != null)
        .map(StreamRecord::getTimestamp)
        .toList();
  }

  /** The output in order, as forecast, actual or watermark. */
  @SuppressWarnings("unchecked")
  private static List<String> kinds(
      TwoInputStreamOperatorTestHarness<WindowReady, ModelUpdate, ScoredEvent> h) {
    return new ArrayList<>(h.getOutput())
        .stream()
            .map(
                e ->
                    e instanceof Watermark
                        ? "watermark"
                        : ((StreamRecord<ScoredEvent>) e).getValue().forecast != null
                            ? "forecast"
                            : "actual")
            .toList();
  }

  /** The actual a reading stands for: the window's newest row, every feature, no domain. */
  private static Reading actual(Reading reading) {
    return Reading.newBuilder(reading).setDomain("").build();
  }

  private static long dayMs(Reading reading) {
    return reading.getDay().toEpochDay() * DAY_MS;
  }
}
