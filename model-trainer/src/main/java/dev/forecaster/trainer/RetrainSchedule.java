package dev.forecaster.trainer;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * When the trainer's next scheduled round is due: a fixed interval or a Unix cron expression (UTC).
 */
public abstract class RetrainSchedule {

  private static final Pattern SHORT_DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

  /** The first time a round is due strictly after {@code after}. */
  public abstract Instant next(Instant after);

  /** Every {@code interval}, counted from the end of the previous round. */
  public static RetrainSchedule every(Duration interval) {
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("the interval must be positive, got " + interval);
    }
    return new RetrainSchedule() {
      @Override
      public Instant next(Instant after) {
        return after.plus(interval);
      }

      @Override
      public String toString() {
        return "every " + interval;
      }
    };
  }

  /**
   * A five-field Unix cron expression ({@code minute hour day-of-month month day-of-week}),
   * evaluated in UTC, e.g. {@code "0 3 * * *"} for 03:00 every day.
   */
  public static RetrainSchedule cron(String expression) {
    ExecutionTime times;
    try {
      times =
          ExecutionTime.forCron(
              new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX))
                  .parse(expression.strip()));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "not a Unix cron expression (minute hour day month weekday): '"
              + expression
              + "': "
              + e.getMessage(),
          e);
    }
    return new RetrainSchedule() {
      @Override
      public Instant next(Instant after) {
        return times
            .nextExecution(after.atZone(ZoneOffset.UTC))
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "cron '" + expression + "' never fires after " + after))
            .toInstant();
      }

      @Override
      public String toString() {
        return "cron '" + expression.strip() + "' (UTC)";
      }
    };
  }

  /**
   * {@code 24h}, {@code 90m}, {@code 30s}, {@code 2d}, {@code 500ms}, or ISO-8601 such as {@code
   * PT6H}.
   */
  public static Duration parseDuration(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    Matcher m = SHORT_DURATION.matcher(t);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
    }
    try {
      return Duration.parse(text.strip().toUpperCase(Locale.ROOT));
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "not a duration: '" + text + "' (e.g. 24h, 90m, 30s, 2d or PT6H)", e);
    }
  }
}
