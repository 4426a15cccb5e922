package dev.forecaster.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.avro.Evaluation;
import java.time.Duration;
import java.time.LocalDate;
import org.junit.jupiter.api.Test;

class DriftMonitorTest {

  static Evaluation evaluation(String model, long version, double error) {
    return Evaluation.newBuilder()
        .setForecastId("f")
        .setSeriesId("s")
        .setTargetDay(LocalDate.of(2016, 1, 1))
        .setTarget("temp_max")
        .setPredicted(10 + error)
        .setActual(10)
        .setError(error)
        .setPersistenceError(3.0)
        .setModelName(model)
        .setModelVersion(version)
        .build();
  }

  private final DriftMonitor monitor =
      new DriftMonitor("weather", new DriftMonitor.Policy(4, 0.25, Duration.ZERO));

  @Test
  void noVerdictBeforeKEvaluationsThenDriftAboveTheMargin() {
    for (int i = 0; i < 3; i++) {
      monitor.record(evaluation("weather", 1, i % 2 == 0 ? 5 : -5));
    }
    assertThat(monitor.check(1, 2.0)).isEmpty(); // 3 of 4
    monitor.record(evaluation("weather", 1, 5));
    DriftMonitor.Drift drift = monitor.check(1, 2.0).orElseThrow();
    assertThat(drift.liveMae()).isEqualTo(5.0);
    assertThat(drift.evaluations()).isEqualTo(4);
    assertThat(drift.persistenceMae()).isEqualTo(3.0);
    assertThat(drift.describe()).contains("weather v1", "5.0000", "2.0000", "3.0000");
    // exactly at the margin is no drift: 5.0 = 4.0 x 1.25
    assertThat(monitor.check(1, 4.0)).isEmpty();
    assertThat(monitor.check(1, 3.9)).isPresent();
  }

  @Test
  void onlyTheLastKCountAndResetForgetsAVersion() {
    for (int i = 0; i < 4; i++) {
      monitor.record(evaluation("weather", 1, 9));
    }
    for (int i = 0; i < 4; i++) {
      monitor.record(evaluation("weather", 1, 1)); // pushes the bad ones out
    }
    assertThat(monitor.check(1, 1.0)).isEmpty();
    assertThat(monitor.liveMae(1)).hasValue(1.0);
    monitor.reset(1);
    assertThat(monitor.liveMae(1)).isEmpty();
  }

  @Test
  void otherModelsAndVersionsAreKeptApart() {
    assertThat(monitor.record(evaluation("stock", 1, 100))).isFalse();
    for (int i = 0; i < 4; i++) {
      monitor.record(evaluation("weather", 2, 100));
      monitor.record(evaluation("weather", 1, 0.5));
    }
    assertThat(monitor.check(1, 1.0)).isEmpty();
    assertThat(monitor.check(2, 1.0)).isPresent();
    assertThat(monitor.newestVersion()).hasValue(2L);
  }

  @Test
  void laterHorizonsDoNotCountAgainstTheFirstHorizonsBacktest() {
    for (int i = 0; i < 4; i++) {
      monitor.record(evaluation("weather", 1, 0.5));
      // a week ahead errs more than the next day: not drift of the next-day model
      assertThat(monitor.record(withHorizon(evaluation("weather", 1, 6.0), 7))).isFalse();
    }
    assertThat(monitor.check(1, 1.0)).isEmpty();
    assertThat(monitor.liveMae(1)).hasValue(0.5);
  }

  private static Evaluation withHorizon(Evaluation e, int horizon) {
    return Evaluation.newBuilder(e).setHorizon(horizon).build();
  }
}
