package dev.forecaster.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.time.DayOfWeek;
import java.time.LocalDate;
import java.util.Collection;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The days of the week on which a series has readings: every day for a weather station, Monday to
 * Friday for a ticker. A forecast of horizon h targets the h-th reading day after its base day
 * ({@link #after}), so Friday's next-day forecast of a stock targets Monday.
 *
 * <p>What is assumed: the calendar is weekly. It is learned from the days of a history ({@link
 * #learn}): a weekday is a reading day when it holds at least a quarter of the readings it would
 * hold if readings were spread evenly over the week (and on at least two days), so that a few stray
 * weekend days do not make weekends reading days and a few holidays do not remove a weekday.
 * Holidays are not known in advance: a forecast from the day before a holiday targets the holiday,
 * and the evaluator, which counts readings, scores it against the next reading that comes (the
 * evaluation says which day).
 */
public record ReadingDays(Set<DayOfWeek> days) {

  /** Every day of the week: the calendar of a model that learned none. */
  public static final ReadingDays EVERY_DAY = new ReadingDays(EnumSet.allOf(DayOfWeek.class));

  /** Monday to Friday. */
  public static final ReadingDays WEEKDAYS =
      new ReadingDays(EnumSet.range(DayOfWeek.MONDAY, DayOfWeek.FRIDAY));

  public ReadingDays {
    if (days == null || days.isEmpty()) {
      throw new IllegalArgumentException("a series reads on at least one day of the week");
    }
    days = Set.copyOf(EnumSet.copyOf(days));
  }

  /** The reading days of a history's days; every day when there are none. */
  public static ReadingDays learn(Collection<LocalDate> readingDays) {
    if (readingDays.isEmpty()) {
      return EVERY_DAY;
    }
    Map<DayOfWeek, Integer> counts = new EnumMap<>(DayOfWeek.class);
    readingDays.forEach(d -> counts.merge(d.getDayOfWeek(), 1, Integer::sum));
    double even = readingDays.size() / 7.0;
    EnumSet<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
    counts.forEach(
        (day, n) -> {
          if (n >= Math.max(2, even / 4)) { // one stray day never makes a reading day
            days.add(day);
          }
        });
    return new ReadingDays(days);
  }

  /** The {@code steps}-th reading day after {@code day}. */
  public LocalDate after(LocalDate day, int steps) {
    if (steps < 1) {
      throw new IllegalArgumentException("steps must be at least 1, got " + steps);
    }
    LocalDate d = day;
    for (int seen = 0; seen < steps; ) {
      d = d.plusDays(1);
      if (days.contains(d.getDayOfWeek())) {
        seen++;
      }
    }
    return d;
  }

  /** As stored in a model's spec: the day names in week order. */
  @JsonValue
  public List<DayOfWeek> asList() {
    return EnumSet.copyOf(days).stream().toList();
  }

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  static ReadingDays fromList(List<DayOfWeek> days) {
    return new ReadingDays(EnumSet.copyOf(days));
  }

  @Override
  public String toString() {
    return days.equals(EVERY_DAY.days) ? "every day" : asList().toString();
  }
}
