package dev.forecaster.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.avro.Reading;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SamplesTest {

  private static final LocalDate DAY0 = LocalDate.of(2015, 1, 1);

  private static final ModelSpec SPEC =
      ModelSpec.builder().name("m").features(List.of("x")).target("x").windowLength(3).build();

  private static Reading reading(int day, double x) {
    return reading(day, Map.of("x", x));
  }

  private static Reading reading(int day, Map<String, Double> features) {
    return Reading.newBuilder()
        .setSeriesId("S")
        .setDay(DAY0.plusDays(day))
        .setFeatures(features)
        .setDomain("d")
        .build();
  }

  /** Each sample as "base day: window days -> target day". */
  private static List<String> describe(List<Sample> samples) {
    List<String> out = new ArrayList<>();
    for (Sample s : samples) {
      out.add(
          (s.baseDay().toEpochDay() - DAY0.toEpochDay())
              + ": "
              + Arrays.toString(
                  Arrays.stream(s.epochDays()).map(d -> (int) (d - DAY0.toEpochDay())).toArray())
              + " -> "
              + (s.targetDay().toEpochDay() - DAY0.toEpochDay()));
    }
    return out;
  }

  @Test
  void windowsSpanAWeekendButNeverAResetGap() {
    // days 0..3, a weekend-like gap of 3 (3 -> 6), then a gap of 10 (7 -> 17)
    List<Reading> readings = new ArrayList<>();
    for (int d : new int[] {0, 1, 2, 3, 6, 7, 17, 18, 19, 20}) {
      readings.add(reading(d, d));
    }

    List<Sample> samples = Samples.of(History.of(readings), SPEC, WindowPolicy.DEFAULT);

    assertThat(describe(samples))
        .containsExactly(
            "2: [0, 1, 2] -> 3",
            "3: [1, 2, 3] -> 6",
            "6: [2, 3, 6] -> 7",
            // 7 has no target in its run: 17 is after a reset gap
            "19: [17, 18, 19] -> 20");
  }

  @Test
  void carryForwardFillsTheGapWithTheLastReadingAndForecastsOnlyFromRealOnes() {
    List<Reading> readings =
        List.of(reading(0, 0), reading(1, 1), reading(2, 2), reading(8, 8), reading(9, 9));
    WindowPolicy carry = new WindowPolicy(4, WindowPolicy.GapPolicy.CARRY_FORWARD);

    List<Sample> samples = Samples.of(History.of(readings), SPEC, carry);

    // the window holds 3 readings: only the newest filled days (6, 7) fit beside day 8
    assertThat(describe(samples)).containsExactly("2: [0, 1, 2] -> 8", "8: [6, 7, 8] -> 9");
    Sample fromEight = samples.get(1);
    assertThat(fromEight.values()[0][0]).isEqualTo(2.0); // carried from day 2
    assertThat(fromEight.values()[1][0]).isEqualTo(2.0);
    assertThat(fromEight.baseValue()).isEqualTo(8.0);
    assertThat(fromEight.actual()).isEqualTo(9.0);
  }

  @Test
  void aReadingWithOtherFeaturesStartsANewRun() {
    List<Reading> readings =
        List.of(
            reading(0, 0),
            reading(1, 1),
            reading(2, 2),
            reading(3, Map.of("x", 3.0, "y", 1.0)),
            reading(4, 4),
            reading(5, 5),
            reading(6, 6),
            reading(7, 7));

    List<Sample> samples = Samples.of(History.of(readings), SPEC, WindowPolicy.DEFAULT);

    assertThat(describe(samples)).containsExactly("6: [4, 5, 6] -> 7");
  }

  @Test
  void aSeriesWithoutTheModelsFeaturesGivesNoWindows() {
    List<Reading> readings = List.of(reading(0, Map.of("y", 1.0)), reading(1, Map.of("y", 2.0)));

    assertThat(Samples.of(History.of(readings), SPEC)).isEmpty();
  }

  @Test
  void theTargetIsTheHorizonthReadingAfterTheBase() {
    List<Reading> readings = new ArrayList<>();
    for (int d = 0; d < 6; d++) {
      readings.add(reading(d, d));
    }

    List<Sample> samples =
        Samples.of(History.of(readings), SPEC.toBuilder().horizon(2).build(), WindowPolicy.DEFAULT);

    assertThat(describe(samples)).containsExactly("2: [0, 1, 2] -> 4", "3: [1, 2, 3] -> 5");
  }
}
