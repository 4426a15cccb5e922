package dev.forecaster.model;

import dev.forecaster.avro.Reading;
import java.io.Serializable;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Which readings of a series make its windows: one rule for the trainer ({@link History}, {@link
 * Samples}) and the streaming job ({@code SeriesWindowFunction}), so that a model sees in service
 * the windows it was trained on.
 *
 * <ul>
 *   <li><b>Valid:</b> a reading with a series id, at least one feature and every feature a finite
 *       number, of a day no later than today plus a tolerance ({@link #problem}); anything else is
 *       refused (the job dead-letters it).
 *   <li><b>Order:</b> a series' readings are taken in the order they arrive (Kafka keeps it per
 *       key); a file is replayed oldest day first ({@link History#inReplayOrder}).
 *   <li><b>Duplicates and late days:</b> a reading of the newest day already taken is a duplicate,
 *       one of an older day is late; both are refused, the first reading of a day stays ({@link
 *       #admit}).
 *   <li><b>Gaps:</b> readings further apart than {@code maxGapDays} are a gap; a window never spans
 *       one: it starts anew after it ({@link GapPolicy#RESET}) or the missing days are filled with
 *       the last reading ({@link GapPolicy#CARRY_FORWARD}). A weekend is not a gap.
 *   <li><b>Features:</b> a reading whose feature names differ from the previous one's starts a new
 *       window: a window's rows all carry the same features.
 * </ul>
 *
 * @param maxGapDays the most days between two readings that a window spans (a weekend is 3)
 * @param gapPolicy what a longer gap does to the window
 */
public record WindowPolicy(int maxGapDays, GapPolicy gapPolicy) implements Serializable {

  /** Readings per series the job keeps by default: more than any model's window. */
  public static final int DEFAULT_WINDOW_LENGTH = 16;

  public static final int DEFAULT_MAX_GAP_DAYS = 4;

  /** The job's defaults, and the trainer's. */
  public static final WindowPolicy DEFAULT =
      new WindowPolicy(DEFAULT_MAX_GAP_DAYS, GapPolicy.RESET);

  /** What a gap longer than {@code maxGapDays} does. */
  public enum GapPolicy {
    /** The window starts anew with the reading after the gap. */
    RESET,
    /** The missing days are filled with the last reading before the gap. */
    CARRY_FORWARD;

    /** As settings write it: {@code reset}, {@code carry-forward}. */
    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  /** Whether a reading is taken into its series at all. */
  public enum Admission {
    /** A newer day: taken. */
    TAKE,
    /** The newest day already taken: refused, the first reading of a day stays. */
    DUPLICATE,
    /** An older day than the newest taken: refused. */
    LATE
  }

  /** How a taken reading joins the window of the readings before it. */
  public enum Join {
    /** Next to the previous reading (any gap up to {@code maxGapDays}). */
    CONTINUE,
    /** After a longer gap: the window starts anew. */
    RESET_AFTER_GAP,
    /** After a longer gap: the missing days are filled with the previous reading first. */
    CARRY_FORWARD,
    /** Other feature names than the previous reading: the window starts anew. */
    RESET_NEW_FEATURES
  }

  public WindowPolicy {
    Objects.requireNonNull(gapPolicy, "gapPolicy");
    if (maxGapDays < 1) {
      throw new IllegalArgumentException("maxGapDays must be at least 1, got " + maxGapDays);
    }
  }

  /** Days after today a reading may be of (time zones, a feed a little ahead) by default. */
  public static final int DEFAULT_MAX_DAYS_AHEAD = 2;

  /** The longest series id a reading may have. */
  public static final int MAX_SERIES_ID_LENGTH = 256;

  /** The most features a reading may carry. */
  public static final int MAX_FEATURES = 256;

  /**
   * Why a reading cannot be used, or null when it can: a blank or overlong series id, no features
   * or too many, a feature that is not a finite number, or a day more than {@code maxDaysAhead}
   * after {@code today} (it would make every real reading after it late).
   */
  public static String problem(Reading r, LocalDate today, int maxDaysAhead) {
    if (r.getSeriesId() == null || r.getSeriesId().isBlank()) {
      return "blank series id";
    }
    if (r.getSeriesId().length() > MAX_SERIES_ID_LENGTH) {
      return "series id of "
          + r.getSeriesId().length()
          + " characters (at most "
          + MAX_SERIES_ID_LENGTH
          + ")";
    }
    if (r.getFeatures() == null || r.getFeatures().isEmpty()) {
      return "no features";
    }
    if (r.getFeatures().size() > MAX_FEATURES) {
      return r.getFeatures().size() + " features (at most " + MAX_FEATURES + ")";
    }
    for (Map.Entry<String, Double> f : r.getFeatures().entrySet()) {
      if (f.getValue() == null || !Double.isFinite(f.getValue())) {
        return "feature '" + f.getKey() + "' is not a finite number: " + f.getValue();
      }
    }
    LocalDate latest = today.plusDays(maxDaysAhead);
    if (r.getDay().isAfter(latest)) {
      return "day "
          + r.getDay()
          + " is after "
          + latest
          + " (today "
          + today
          + " + "
          + maxDaysAhead
          + " days)";
    }
    return null;
  }

  /** {@link #problem(Reading, LocalDate, int)} today (UTC) with the default tolerance. */
  public static String problem(Reading r) {
    return problem(r, LocalDate.now(ZoneOffset.UTC), DEFAULT_MAX_DAYS_AHEAD);
  }

  /** Whether a reading of {@code day} is taken into a series whose newest taken day is given. */
  public static Admission admit(int newestDay, int day) {
    if (day == newestDay) {
      return Admission.DUPLICATE;
    }
    return day < newestDay ? Admission.LATE : Admission.TAKE;
  }

  /**
   * How a taken reading of {@code day} joins a window whose newest reading is of {@code
   * previousDay}; {@code sameFeatures}: whether both readings carry the same feature names.
   */
  public Join join(int previousDay, int day, boolean sameFeatures) {
    if (!sameFeatures) {
      return Join.RESET_NEW_FEATURES;
    }
    if (day - previousDay <= maxGapDays) {
      return Join.CONTINUE;
    }
    return gapPolicy == GapPolicy.RESET ? Join.RESET_AFTER_GAP : Join.CARRY_FORWARD;
  }

  /**
   * The first missing day that a window of {@code capacity} rows keeps when a gap from {@code
   * previousDay} to {@code day} is carried forward: only the newest filled days fit beside the new
   * reading. The days from it to {@code day - 1} are filled.
   */
  public static int firstCarriedDay(int previousDay, int day, int capacity) {
    return Math.max(previousDay + 1, day - capacity + 1);
  }
}
