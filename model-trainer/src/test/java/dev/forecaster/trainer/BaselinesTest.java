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
