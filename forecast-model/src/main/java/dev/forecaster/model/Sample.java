package dev.forecaster.model;

import java.time.LocalDate;

/**
 * One training or test example: a window of raw readings of one series and the raw target value
 * {@code horizon} readings after its last one.
 *
 * @param values raw feature values, one row per reading, oldest first, in the spec's feature order
 * @param epochDays the day of each row
 * @param baseValue the raw target at the window's last reading (what persistence predicts)
 * @param actual the raw target at {@code targetDay}
 */
public record Sample(
    String seriesId,
    LocalDate baseDay,
    LocalDate targetDay,
    double[][] values,
    int[] epochDays,
    double baseValue,
    double actual) {

  /** Identifies the forecast this sample stands for, across models with other windows. */
  public String key() {
    return seriesId + "@" + targetDay;
  }

  /** The target day of a {@link #key}, as its ISO text (which sorts as the days do). */
  public static String targetDayOfKey(String key) {
    return key.substring(key.lastIndexOf('@') + 1);
  }
}
