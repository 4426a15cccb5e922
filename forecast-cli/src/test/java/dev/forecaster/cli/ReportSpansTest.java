package dev.forecaster.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.schemas.ForecastIds;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The report's per-version table counts what a consumer that de-duplicates on the id sees. */
class ReportSpansTest {

  private static final LocalDate LIVE_FROM = LocalDate.of(2020, 1, 10);

  @Test
  void aSpanCountsEachForecastOnceAndEveryLiveEvaluationOfItsHorizon() {
    List<Forecast> forecasts = new ArrayList<>();
    List<Evaluation> evaluations = new ArrayList<>();
    // horizon 2 from base days Jan 7 .. 12: those from Jan 8 on are for a live day
    for (int d = 7; d <= 12; d++) {
      forecasts.add(forecast(LocalDate.of(2020, 1, d)));
    }
    forecasts.add(forecast(LocalDate.of(2020, 1, 9))); // written twice (at-least-once)
    for (int d = 8; d <= 10; d++) {
      evaluations.add(evaluation(LocalDate.of(2020, 1, d)).build());
    }
    evaluations.add(evaluation(LocalDate.of(2020, 1, 9)).build()); // written twice
    // scored in the live period, its forecast gone with retention
    evaluations.add(evaluation(LocalDate.of(2020, 1, 6)).setTargetDay(LIVE_FROM).build());
    // scored before the live period
    evaluations.add(evaluation(LocalDate.of(2020, 1, 5)).build());
    ReportData data =
        new ReportData(
            100, forecasts, evaluations, List.of(), Map.of(), Map.of("S", LIVE_FROM), List.of());

    List<Report.VersionSpan> spans = Report.liveByVersion(data, "S", LIVE_FROM);

    assertThat(spans).hasSize(1);
    Report.VersionSpan span = spans.get(0);
    assertThat(span.forecasts()).as("Jan 8 .. 12, and Jan 6's by its evaluation").isEqualTo(6);
    assertThat(span.evaluations()).as("Jan 6, 8, 9, 10").isEqualTo(4);
    assertThat(span.first()).isEqualTo(LocalDate.of(2020, 1, 6));
    assertThat(span.last()).isEqualTo(LocalDate.of(2020, 1, 12));
    JsonNode summary = Report.summary(data);
    assertThat(summary.get("forecasts").asInt()).isEqualTo(6);
    assertThat(summary.get("evaluations").asInt()).isEqualTo(5);
    assertThat(summary.at("/series/S/liveByHorizon/0/evaluations").asInt())
        .isEqualTo(span.evaluations());
  }

  @Test
  void aModelAsGoodAsPersistenceAsShownIsNeitherGreenNorRed() {
    assertThat(Report.against(1.549, 1.6)).isEqualTo("good");
    assertThat(Report.against(1.798, 1.768)).isEqualTo("bad");
    // a model serving persistence: its MAE is persistence's, up to float rounding
    assertThat(Report.against(43.754, 43.754)).isEmpty();
    assertThat(Report.against(43.75400001, 43.754)).isEmpty();
  }

  @Test
  void anEvaluationWithAnIdNotTheJobsStillCountsAndStopsNothing() {
    Evaluation foreign =
        evaluation(LocalDate.of(2020, 1, 9)).setForecastId("from another producer").build();
    ReportData data =
        new ReportData(
            1, List.of(), List.of(foreign), List.of(), Map.of(), Map.of("S", LIVE_FROM), List.of());

    List<Report.VersionSpan> spans = Report.liveByVersion(data, "S", LIVE_FROM);

    assertThat(spans).hasSize(1);
    assertThat(spans.get(0).evaluations()).isEqualTo(1);
    assertThat(spans.get(0).forecasts()).isEqualTo(1);
    assertThat(spans.get(0).first()).as("its target day").isEqualTo(LocalDate.of(2020, 1, 11));
  }

  private static Forecast forecast(LocalDate base) {
    return Forecast.newBuilder()
        .setForecastId(ForecastIds.of("S", base, 2, "m", 1))
        .setSeriesId("S")
        .setBaseDay(base)
        .setTargetDay(base.plusDays(2))
        .setHorizon(2)
        .setTarget("v")
        .setValue(base.getDayOfMonth())
        .setModelName("m")
        .setModelVersion(1)
        .setCreatedAt(Instant.EPOCH)
        .build();
  }

  private static Evaluation.Builder evaluation(LocalDate base) {
    return Evaluation.newBuilder()
        .setForecastId(ForecastIds.of("S", base, 2, "m", 1))
        .setSeriesId("S")
        .setTargetDay(base.plusDays(2))
        .setTarget("v")
        .setPredicted(base.getDayOfMonth())
        .setActual(base.getDayOfMonth() + 1)
        .setError(-1.0)
        .setPersistenceError(-2.0)
        .setModelName("m")
        .setModelVersion(1)
        .setHorizon(2);
  }
}
