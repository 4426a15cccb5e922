package dev.forecaster.trainer;

import dev.forecaster.avro.Reading;
import java.time.DayOfWeek;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Daily series with known structure, to check the trainer on data nobody tuned it for: the same
 * seed gives the same readings. Each reading carries {@code value} and, as a second input, {@code
 * aux}: a noisy copy of the previous day's value (a sensor beside the one forecast).
 */
public final class SeriesGenerator {

  /** What a generated series looks like. */
  public enum Kind {
    /**
     * An additive random walk with a small drift, from 100: nothing is predictable but the drift.
     */
    RANDOM_WALK,
    /** A geometric random walk on trading days only (a price): log returns with a small drift. */
    PRICE,
    /**
     * Weather-like: a yearly cycle and noise that persists from day to day, more in summer than in
     * winter, and is larger in winter (the dynamics depend on the season).
     */
    SEASONAL,
    /**
     * Demand-like: a slowly wandering positive level times a day-of-week profile (weekends low),
     * with proportional noise.
     */
    WEEKLY,
    /** A trend that changes slope and level at 60% of the series, with persistent noise. */
    REGIME,
    /** {@link #SEASONAL} with missing days: single days and a few gaps of one to three weeks. */
    GAPS;

    public String wireName() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static Kind named(String name) {
      try {
        return valueOf(name.strip().toUpperCase(Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "unknown kind '" + name + "': random-walk, price, seasonal, weekly, regime or gaps", e);
      }
    }
  }

  /** The day the generated series start. */
  public static final LocalDate START = LocalDate.of(2016, 1, 1);

  private SeriesGenerator() {}

  /**
   * {@code series} series of {@code days} calendar days each (fewer readings where days are
   * missing), ids {@code <kind>-1} ..., domain {@code generated}.
   */
  public static List<Reading> generate(Kind kind, int series, int days, long seed) {
    List<Reading> out = new ArrayList<>();
    for (int s = 1; s <= series; s++) {
      Random random = new Random(seed * 1_000_003L + s);
      String id = kind.wireName() + "-" + s;
      double[] values = values(kind, days, random);
      double previous = values[0];
      for (int d = 0; d < days; d++) {
        LocalDate day = START.plusDays(d);
        double v = values[d];
        if (Double.isNaN(v)) {
          continue; // a missing day
        }
        double aux = previous + random.nextGaussian() * 0.5 * noiseScale(kind, values);
        previous = v;
        out.add(
            Reading.newBuilder()
                .setSeriesId(id)
                .setDay(day)
                .setFeatures(Map.of("value", round(v), "aux", round(aux)))
                .setDomain("generated")
                .build());
      }
    }
    return out;
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  private static double noiseScale(Kind kind, double[] values) {
    return switch (kind) {
      case PRICE, WEEKLY -> Math.abs(values[0]) * 0.01;
      default -> 1.0;
    };
  }

  private static double[] values(Kind kind, int days, Random random) {
    double[] v = new double[days];
    double phase = random.nextDouble() * 2 * Math.PI;
    switch (kind) {
      case RANDOM_WALK -> {
        double drift = 0.05 * random.nextGaussian();
        v[0] = 100;
        for (int d = 1; d < days; d++) {
          v[d] = v[d - 1] + drift + random.nextGaussian();
        }
      }
      case PRICE -> {
        double drift = 0.0003;
        v[0] = 50 + 100 * random.nextDouble();
        for (int d = 1; d < days; d++) {
          v[d] = v[d - 1] * Math.exp(drift + 0.012 * random.nextGaussian());
        }
        for (int d = 0; d < days; d++) {
          DayOfWeek dow = START.plusDays(d).getDayOfWeek();
          if (dow == DayOfWeek.SATURDAY || dow == DayOfWeek.SUNDAY) {
            v[d] = Double.NaN; // no trading
          }
        }
      }
      case SEASONAL, GAPS -> {
        double noise = 0;
        for (int d = 0; d < days; d++) {
          double season = Math.sin(2 * Math.PI * START.plusDays(d).getDayOfYear() / 365.25 + phase);
          // warm spells last longer than cold snaps; winter days vary more
          double persistence = 0.55 + 0.35 * season;
          double spread = 2.2 - 0.8 * season;
          noise = persistence * noise + spread * random.nextGaussian();
          v[d] = 14 + 8 * season + noise;
        }
        if (kind == Kind.GAPS) {
          for (int d = 1; d < days; d++) {
            if (random.nextDouble() < 0.04) {
              v[d] = Double.NaN;
            }
          }
          for (int g = 0; g < 3; g++) {
            int from = 30 + random.nextInt(Math.max(1, days - 60));
            int length = 7 + random.nextInt(15);
            for (int d = from; d < Math.min(days - 1, from + length); d++) {
              v[d] = Double.NaN;
            }
          }
        }
      }
      case WEEKLY -> {
        double[] profile = {1.0, 1.05, 1.1, 1.15, 1.3, 0.6, 0.4};
        double level = 200;
        for (int d = 0; d < days; d++) {
          level = Math.max(50, level + 2 * random.nextGaussian());
          int dow = START.plusDays(d).getDayOfWeek().getValue() - 1;
          v[d] = level * profile[dow] * (1 + 0.05 * random.nextGaussian());
        }
      }
      case REGIME -> {
        int change = (int) (days * 0.6);
        double noise = 0;
        for (int d = 0; d < days; d++) {
          noise = 0.7 * noise + random.nextGaussian();
          double trend = d < change ? 50 + 0.02 * d : 50 + 0.02 * change + 8 - 0.03 * (d - change);
          v[d] = trend + noise;
        }
      }
      default -> throw new IllegalStateException(kind.name());
    }
    return v;
  }
}
