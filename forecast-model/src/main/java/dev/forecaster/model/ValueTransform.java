package dev.forecaster.model;

import java.util.Locale;

/**
 * How a raw series value becomes a network value, and back. Price levels leave the training range
 * (a network's bounded output saturates at the highest price it saw), so a price is fed and
 * predicted as its change or log return from the previous value, then added back.
 */
public enum ValueTransform {
  /** The value itself. */
  LEVEL(0),
  /** value - previous value. */
  CHANGE(1),
  /** log(value / previous value); the series must stay positive. */
  LOG_CHANGE(1);

  private final int lag;

  ValueTransform(int lag) {
    this.lag = lag;
  }

  /** Readings before the first one that this transform needs (0 or 1). */
  public int lag() {
    return lag;
  }

  /** The transformed value of {@code value} whose predecessor is {@code previous}. */
  public double apply(double previous, double value) {
    return switch (this) {
      case LEVEL -> value;
      case CHANGE -> value - previous;
      case LOG_CHANGE -> Math.log(value / previous);
    };
  }

  /** The raw value whose transform from {@code previous} is {@code transformed}. */
  public double invert(double previous, double transformed) {
    return switch (this) {
      case LEVEL -> transformed;
      case CHANGE -> previous + transformed;
      case LOG_CHANGE -> previous * Math.exp(transformed);
    };
  }

  public String wireName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  public static ValueTransform named(String name) {
    try {
      return valueOf(name.strip().toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown transform '" + name + "': use level, change or log-change", e);
    }
  }
}
