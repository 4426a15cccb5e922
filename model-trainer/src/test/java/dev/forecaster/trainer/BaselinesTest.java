package dev.forecaster.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.forecaster.avro.Reading;
import dev.forecaster.model.History;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.Sample;
import dev.forecaster.model.Samples;
import dev.forecaster.model.ScalingFit;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BaselinesTest {

  /**
   * x(t+1) = 0.8 x(t) + 0.5 w(t) + 3: linear in the window, so least squares forecasts it exactly.
   */
  private static History autoregressive() {
    List<Reading> readings = new ArrayList<>();
    double x = 20;
    LocalDate day = LocalDate.of(2020, 1, 1);
    for (int i = 0; i < 300; i++) {
      double w = Math.sin(i * 1.7) * 3;
      readings.add(
          Reading.newBuilder()
              .setSeriesId("s")
              .setDay(day.plusDays(i))
              .setFeatures(Map.of("x", x, "w", w))
              .setDomain("")
              .build());
      x = 0.8 * x + 0.5 * w + 3;
    }
    return History.of(readings);
  }

  @Test
  void persistenceForecastsTheLastValueOfEachWindow() {
    ModelSpec spec = spec();
    List<Sample> samples = Samples.of(autoregressive(), spec);
    double[] p = Baselines.persistence(samples);
    for (int i = 0; i < samples.size(); i++) {
      assertThat(p[i]).isEqualTo(samples.get(i).values()[samples.get(i).values().length - 1][0]);
    }
  }

  @Test
  void leastSquaresRecoversALinearRuleFromTheTrainingWindows() {
    ModelSpec spec = spec();
    List<Sample> samples = Samples.of(autoregressive(), spec);
    Split split = Split.chronological(samples, null);
    spec = spec.withScaling(ScalingFit.fit(spec, split.train()));

    double[] linear = Baselines.linear(spec, split.train(), split.test());
    double[] persistence = Baselines.persistence(split.test());
    double[] actual = split.test().stream().mapToDouble(Sample::actual).toArray();

    assertThat(Metrics.of(persistence, actual).mae()).isGreaterThan(0.5);
    assertThat(Metrics.of(linear, actual).mae()).isLessThan(1e-4);
  }

  @Test
  void metricsAreTheUsualOnes() {
    Metrics m = Metrics.of(new double[] {1, 2, 4}, new double[] {2, 2, 2});
    assertThat(m.mae()).isCloseTo(1.0, within(1e-12));
    assertThat(m.rmse()).isCloseTo(Math.sqrt(5.0 / 3), within(1e-12));
    assertThat(m.mape()).isCloseTo(50.0, within(1e-12));
    assertThat(Metrics.of(new double[] {1}, new double[] {0}).mape()).isNaN();
    // sMAPE: 200 |e| / (|y| + |ŷ|), averaged: (200/3 + 0 + 200*2/6) / 3
    assertThat(m.smape()).isCloseTo((200.0 / 3 + 0 + 400.0 / 6) / 3, within(1e-9));
    assertThat(m.mase()).isNaN();
    assertThat(Metrics.of(new double[] {1, 2, 4}, new double[] {2, 2, 2}, 0.5).mase())
        .isCloseTo(2.0, within(1e-12));
  }

  @Test
  void aSeasonIsFoundWhereTheDataHaveOneAndNotInATrend() {
    LocalDate end = SeriesGenerator.START.plusDays(1400);
    assertThat(season(SeriesGenerator.Kind.SEASONAL, end)).isEqualTo(365);
    assertThat(season(SeriesGenerator.Kind.WEEKLY, end)).isEqualTo(7);
    assertThat(season(SeriesGenerator.Kind.RANDOM_WALK, end)).isZero();
    assertThat(season(SeriesGenerator.Kind.REGIME, end)).isZero();
  }

  private static int season(SeriesGenerator.Kind kind, LocalDate before) {
    return Baselines.season(
        History.ofFile(SeriesGenerator.generate(kind, 1, 1500, 11)), "value", before);
  }

  @Test
  void theSeasonalNaiveForecastIsTheValueASeasonBefore() {
    List<Reading> readings = SeriesGenerator.generate(SeriesGenerator.Kind.WEEKLY, 1, 60, 2);
    History history = History.ofFile(readings);
    ModelSpec spec =
        ModelSpec.builder()
            .name("w")
            .features(List.of("value"))
            .target("value")
            .windowLength(3)
            .build();
    List<Sample> samples = Samples.of(history, spec);
    double[] naive = Baselines.seasonalNaive(history, "value", samples, 7);
    Map<LocalDate, Double> byDay = new HashMap<>();
    readings.forEach(r -> byDay.put(r.getDay(), r.getFeatures().get("value")));
    int checked = 0;
    for (int i = 0; i < samples.size(); i++) {
      Double weekBefore = byDay.get(samples.get(i).targetDay().minusDays(7));
      if (weekBefore != null) {
        assertThat(naive[i]).isEqualTo(weekBefore);
        checked++;
      } else {
        assertThat(naive[i])
            .as("no reading a week before: persistence")
            .isEqualTo(samples.get(i).baseValue());
      }
    }
    assertThat(checked).isGreaterThan(40);
  }

  private static ModelSpec spec() {
    return ModelSpec.builder()
        .name("ar")
        .hiddenSize(4)
        .features(List.of("x", "w"))
        .target("x")
        .windowLength(3)
        .build();
  }
}
