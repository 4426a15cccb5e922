package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.Interval;
import dev.forecaster.avro.IntervalHit;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;
import dev.forecaster.model.Conformal;
import dev.forecaster.model.ModelArtifact;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.ModelUpdates;
import dev.forecaster.model.ReadingDays;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.schemas.csv.DatasetPreset;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A ticker's forecasts run on its trading days: the trainer learns the calendar from the history,
 * the job's forecast from a Friday targets Monday, and the evaluator scores it against Monday's
 * close. Each forecast carries the intervals the trainer calibrated, and each evaluation says
 * whether the actual fell inside them.
 */
class SeriesCalendarITCase {

  @RegisterExtension static final MiniClusterExtension FLINK = JobFixture.miniCluster(Map.of());

  @Test
  void aFridayForecastOfTheSp500TargetsMondayAndIsScoredAgainstMondaysClose() throws Exception {
    try (JobFixture kafka = new JobFixture("calendar")) {
      ModelSpec spec =
          ModelSpec.builder()
              .name("stock-test")
              .hiddenSize(4)
              .features(List.of("close"))
              .target("close")
              .windowLength(5)
              .build();
      ModelUpdate model =
          kafka.publishModel(
              spec,
              JobFixture.shipped(
                  DatasetPreset.STOCK, LocalDate.of(2011, 1, 1), LocalDate.of(2013, 5, 1)),
              2,
              7);
      assertThat(
              ModelArtifact.readSpec(ModelUpdates.artifactBytes(model), model.getSha256())
                  .readingDays())
          .as("learned from the trading days of the history")
          .isEqualTo(ReadingDays.WEEKDAYS);

      List<Reading> live =
          JobFixture.shipped(
              DatasetPreset.STOCK, LocalDate.of(2013, 5, 1), LocalDate.of(2013, 7, 1));
      TreeMap<LocalDate, Double> close =
          live.stream()
              .collect(
                  Collectors.toMap(
                      Reading::getDay,
                      r -> r.getFeatures().get("close"),
                      (a, b) -> a,
                      TreeMap::new));
      JobClient job =
          ForecastJob.run(
              StreamExecutionEnvironment.getExecutionEnvironment(),
              kafka.config(Map.of("model.name", "stock-test")),
              "calendar");
      try {
        kafka.produceReadings(live);
        int expected = live.size() - 5 + 1; // windows wait for the model if it comes later
        List<Forecast> forecasts = kafka.forecastsOf("SP500", expected, Duration.ofSeconds(90));
        List<Evaluation> evaluations =
            kafka.readUntil(
                kafka.topic("evaluations"),
                Codecs.EVALUATION,
                e -> e.size() >= expected - 1,
                Duration.ofSeconds(60));

        assertThat(forecasts).hasSize(expected);
        // each forecast carries intervals around its value; the first ones are calibrated on the
        // trainer's newest validation residuals, later ones roll on with the job's own residuals
        ModelSpec served =
            ModelArtifact.readSpec(ModelUpdates.artifactBytes(model), model.getSha256());
        assertThat(served.calibrationResiduals())
            .hasSizeBetween(Conformal.MIN_RESIDUALS, Conformal.ROLLING);
        assertThat(forecasts)
            .allSatisfy(
                f ->
                    assertThat(f.getIntervals())
                        .extracting(Interval::getLevel, i -> i.getLower() < i.getUpper())
                        .containsExactly(tuple(0.8, true), tuple(0.95, true)));
        Forecast first =
            forecasts.stream().min(Comparator.comparing(Forecast::getBaseDay)).orElseThrow();
        assertThat(first.getIntervals())
            .containsExactlyElementsOf(
                BatchScoringOperator.intervals(
                    Conformal.bands(
                        served.calibrationResiduals().stream()
                            .mapToDouble(Double::doubleValue)
                            .toArray()),
                    first.getValue()));
        Map<String, Forecast> byId =
            forecasts.stream()
                .collect(Collectors.toMap(Forecast::getForecastId, Function.identity()));
        assertThat(evaluations).hasSize(expected - 1);
        int fridays = 0;
        for (Evaluation e : evaluations) {
          Forecast f = byId.get(e.getForecastId());
          // scored against the next reading after its base day, at that day's close
          LocalDate next = close.higherKey(f.getBaseDay());
          assertThat(e.getTargetDay()).isEqualTo(next);
          assertThat(e.getActual()).isEqualTo(close.get(next));
          assertThat(e.getIntervals())
              .extracting(IntervalHit::getInside)
              .containsExactlyElementsOf(
                  f.getIntervals().stream()
                      .map(i -> e.getActual() >= i.getLower() && e.getActual() <= i.getUpper())
                      .toList());
          if (f.getBaseDay().getDayOfWeek() == DayOfWeek.FRIDAY
              && close.containsKey(f.getTargetDay())) {
            assertThat(e.getTargetDay()).isEqualTo(f.getTargetDay());
            fridays++;
          }
        }
        assertThat(fridays).as("Fridays scored against the Monday they targeted").isGreaterThan(4);
        // Memorial Day: Friday 2013-05-24 targets Monday the 27th, the market opens on the 28th
        Forecast memorial =
            forecasts.stream()
                .filter(f -> f.getBaseDay().equals(LocalDate.of(2013, 5, 24)))
                .findFirst()
                .orElseThrow();
        assertThat(memorial.getTargetDay()).isEqualTo(LocalDate.of(2013, 5, 27));
        assertThat(
                evaluations.stream()
                    .filter(e -> e.getForecastId().equals(memorial.getForecastId()))
                    .map(Evaluation::getTargetDay))
            .containsExactly(LocalDate.of(2013, 5, 28));
      } finally {
        job.cancel().get();
      }
    }
  }
}
