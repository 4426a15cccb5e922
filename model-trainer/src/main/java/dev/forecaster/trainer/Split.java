package dev.forecaster.trainer;

import dev.forecaster.model.Sample;
import java.time.LocalDate;
import java.util.List;

/**
 * A chronological split by target day: test targets are on or after {@code testFrom}; the
 * validation part is the end of what comes before; training is the rest. No window of a later part
 * ever lends its target to an earlier one.
 */
public record Split(
    List<Sample> train,
    List<Sample> validation,
    List<Sample> test,
    LocalDate testFrom,
    LocalDate testTo) {

  /** Share of windows in the test part when no test day is given. */
  public static final double DEFAULT_TEST_FRACTION = 0.2;

  /** Share of the windows before the test part that validate (early stopping). */
  public static final double VALIDATION_FRACTION = 0.15;

  /**
   * @param testFrom first target day of the test part; null takes the last 20% of windows
   */
  public static Split chronological(List<Sample> samples, LocalDate testFrom) {
    return chronological(samples, testFrom, null);
  }

  /** The first target day of the test part when none is given: the last 20% of windows. */
  public static LocalDate defaultTestFrom(List<Sample> samples) {
    if (samples.isEmpty()) {
      throw new TrainingDataException(
          "no windows: the history is shorter than a window plus the horizon");
    }
    return dayAtFraction(samples, 1 - DEFAULT_TEST_FRACTION);
  }

  /**
   * A split whose test part ends before {@code testUntil} (null: at the end): one fold of a
   * rolling-origin backtest, which trains on everything before {@code testFrom}.
   */
  public static Split chronological(List<Sample> samples, LocalDate testFrom, LocalDate testUntil) {
    if (samples.isEmpty()) {
      throw new TrainingDataException(
          "no windows: the history is shorter than a window plus the horizon");
    }
    LocalDate cut = testFrom != null ? testFrom : dayAtFraction(samples, 1 - DEFAULT_TEST_FRACTION);
    List<Sample> before = samples.stream().filter(s -> s.targetDay().isBefore(cut)).toList();
    List<Sample> test =
        samples.stream()
            .filter(s -> !s.targetDay().isBefore(cut))
            .filter(s -> testUntil == null || s.targetDay().isBefore(testUntil))
            .toList();
    if (before.isEmpty() || test.isEmpty()) {
      throw new TrainingDataException(
          "test day "
              + cut
              + " leaves no windows on one side (targets run "
              + dayAtFraction(samples, 0)
              + " .. "
              + dayAtFraction(samples, 1)
              + ")");
    }
    LocalDate validFrom = dayAtFraction(before, 1 - VALIDATION_FRACTION);
    List<Sample> train = before.stream().filter(s -> s.targetDay().isBefore(validFrom)).toList();
    List<Sample> validation =
        before.stream().filter(s -> !s.targetDay().isBefore(validFrom)).toList();
    if (train.isEmpty()) {
      throw new TrainingDataException("too few windows before " + cut + " to train and validate");
    }
    LocalDate last = test.stream().map(Sample::targetDay).max(LocalDate::compareTo).orElseThrow();
    return new Split(train, validation, test, cut, last);
  }

  static LocalDate dayAtFraction(List<Sample> samples, double fraction) {
    List<LocalDate> days = samples.stream().map(Sample::targetDay).sorted().toList();
    int index = (int) Math.min(days.size() - 1, Math.max(0, Math.floor(fraction * days.size())));
    return days.get(index);
  }
}
