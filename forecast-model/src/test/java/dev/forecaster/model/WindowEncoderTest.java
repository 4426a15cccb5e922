package dev.forecaster.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.time.LocalDate;
import java.util.List;
import java.util.function.BiPredicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class WindowEncoderTest {

  private static ModelSpec spec(ValueTransform inputs, ValueTransform target, boolean calendar) {
    return ModelSpec.builder()
        .name("m")
        .version(1)
        .hiddenSize(4)
        .features(List.of("close", "volume"))
        .calendar(calendar)
        .inputTransform(inputs)
        .target("close")
        .targetTransform(target)
        .windowLength(2)
        .scaling(new Scaling(new double[] {0.001, 0.0}, new double[] {0.01, 0.2}, 0.0005, 0.012))
        .build();
  }

  @ParameterizedTest
  @EnumSource(ValueTransform.class)
  void aNetworkTargetMapsBackToTheValueItCameFrom(ValueTransform transform) {
    WindowEncoder encoder = new WindowEncoder(spec(ValueTransform.LEVEL, transform, false));
    double base = 2081.19;
    double future = 2102.06;

    double target = encoder.networkTarget(base, future);

    assertThat(encoder.toRealUnits(base, target)).isCloseTo(future, within(1e-9));
  }

  @ParameterizedTest
  @EnumSource(ValueTransform.class)
  void aLevelModelServesPersistenceForAWindowWholeOutsideTheLevelsItWasFittedOn(
      ValueTransform target) {
    // the target second of two features, with the day of year after them in every row; its levels
    // fitted with mean 20 and standard deviation 5: 4 of them reach from 0 to 40
    Scaling fitted = new Scaling(new double[] {100, 20}, new double[] {10, 5}, 0, 1);
    WindowEncoder encoder =
        new WindowEncoder(
            spec(ValueTransform.LEVEL, target, true).toBuilder()
                .target("volume")
                .scaling(fitted)
                .build());
    BiPredicate<Double, Double> outside =
        (before, last) -> {
          float[] out = new float[encoder.floatsPerWindow()];
          // the other feature far out in every row: only the target's levels count
          encoder.encode(new double[][] {{900, before}, {900, last}}, new int[] {0, 1}, out, 0);
          return encoder.outsideFittedLevels(out, 0);
        };
    boolean level = target == ValueTransform.LEVEL;

    assertThat(outside.test(20.0, 39.9)).isFalse();
    assertThat(outside.test(20.0, 250.0)).as("a spike").isFalse();
    assertThat(outside.test(-0.5, 40.5)).as("far out on both sides").isFalse();
    // a change forecasts a step from the window's level, which is fine at any level
    assertThat(outside.test(40.5, 250.0)).isEqualTo(level);
    assertThat(outside.test(-80.0, -0.5)).isEqualTo(level);
  }

  @Test
  void logChangeInputsAreScaledReturnsOfEachStep() {
    WindowEncoder encoder =
        new WindowEncoder(spec(ValueTransform.LOG_CHANGE, ValueTransform.LOG_CHANGE, false));
    double[][] rows = {{100, 1000}, {101, 1000}, {99.99, 1100}};
    float[] out = new float[encoder.floatsPerWindow()];

    encoder.encode(rows, new int[] {0, 1, 2}, out, 0);

    assertThat(out).hasSize(4);
    assertThat((double) out[0]).isCloseTo((Math.log(101 / 100.0) - 0.001) / 0.01, within(1e-5));
    assertThat((double) out[1]).isCloseTo((0 - 0.0) / 0.2, within(1e-6));
    assertThat((double) out[2]).isCloseTo((Math.log(99.99 / 101) - 0.001) / 0.01, within(1e-5));
    assertThat((double) out[3]).isCloseTo(Math.log(1.1) / 0.2, within(1e-5));
    assertThat(encoder.baseValue(rows)).isEqualTo(99.99);
  }

  @Test
  void calendarInputsFollowTheDayOfTheYear() {
    WindowEncoder encoder =
        new WindowEncoder(spec(ValueTransform.LEVEL, ValueTransform.LEVEL, true));
    int newYear = (int) LocalDate.of(2015, 1, 1).toEpochDay();
    int midYear = (int) LocalDate.of(2015, 7, 2).toEpochDay();
    float[] out = new float[encoder.floatsPerWindow()];

    encoder.encode(new double[][] {{1, 1}, {1, 1}}, new int[] {newYear, midYear}, out, 0);

    assertThat(encoder.floatsPerWindow()).isEqualTo(8); // 2 steps × (2 features + sin + cos)
    assertThat((double) out[2]).isCloseTo(0, within(1e-6)); // sin, 1 January
    assertThat((double) out[3]).isCloseTo(1, within(1e-6)); // cos, 1 January
    assertThat((double) out[7]).isCloseTo(-1, within(0.001)); // cos, 2 July: half way round
  }

  @Test
  void aWindowOfTheWrongLengthIsRefused() {
    WindowEncoder encoder =
        new WindowEncoder(spec(ValueTransform.CHANGE, ValueTransform.CHANGE, false));
    assertThatThrownBy(() -> encoder.encode(new double[2][2], new int[2], new float[4], 0))
        .hasMessageContaining("a window has 3 readings, got 2");
  }

  @Test
  void aSpecWithoutScalingCannotEncode() {
    ModelSpec unscaled = spec(ValueTransform.LEVEL, ValueTransform.LEVEL, false).withScaling(null);
    assertThatThrownBy(() -> new WindowEncoder(unscaled)).hasMessageContaining("no fitted scaling");
  }
}
