package dev.forecaster.trainer;

import dev.forecaster.model.Sample;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.apache.commons.math3.distribution.NormalDistribution;

/**
 * Hansen's (2005) test for superior predictive ability: whether the best of many forecasts tried
 * beats a benchmark by more than the best of that many would by luck alone ("data snooping"). The
 * search tries a hundred forms or more and serves the best; on a few dozen windows the best of a
 * hundred beats persistence by two standard errors of its own paired differences now and then when
 * none is better, and is then worse than persistence on the days after.
 *
 * <p>The statistic is the largest studentised mean gain over the benchmark, {@code max_k sqrt(n)
 * mean(d_k) / sd(d_k)}, each candidate's gains {@code d_k} (the benchmark's absolute error minus
 * its own) studentised by their own standard deviation. Its distribution, were no candidate better,
 * comes from a circular block bootstrap of the target days (every series' windows of a day stay
 * together, as do neighbouring days, so that errors that run together in time or across series stay
 * together), each candidate recentred as Hansen's consistent variant does (one far worse than the
 * benchmark is not recentred, and so cannot make the best look lucky).
 *
 * <p>Candidates are scored on the benchmark's windows that all of them forecast ({@link
 * Sample#key}s, {@code series@yyyy-mm-dd}); one that forecast fewer than {@link #COVERAGE} of them
 * (a longer window that a gap cuts) is left out rather than shrink every other's windows, and one
 * with an error that is not a finite number is never better.
 */
final class SuperiorAbility {

  /** Bootstrap resamples. */
  static final int RESAMPLES = 999;

  /**
   * Windows from which Bonferroni's bound (candidates times the normal tail beyond the statistic)
   * may stand for the bootstrap where it is already below the level: with fewer, the studentised
   * gain is far from normal (a t with a few dozen degrees of freedom has a fatter tail) and the
   * bound may be below the truth.
   */
  static final int BONFERRONI_FROM = 200;

  /** The share of the benchmark's windows a candidate must forecast to be tested. */
  static final double COVERAGE = 0.9;

  private SuperiorAbility() {}

  /**
   * The largest studentised gain of a candidate over the benchmark, the windows it was measured on,
   * the candidates tried and those tested (forecasting {@link #COVERAGE} of the windows), and the
   * p-value of the null that no candidate beats the benchmark.
   *
   * @param how how the p-value was found: {@code "bootstrap"}, {@code "bonferroni"} (an upper
   *     bound, below the level), {@code "none better"} (no candidate better on average: 1), {@code
   *     "too few windows"} (under two in common, or no candidate forecast {@link #COVERAGE} of
   *     them: 1) or {@code "better on every window"} (by the same gain on every window: 0)
   */
  record Outcome(double statistic, int windows, int candidates, int tested, double p, String how) {

    /** The p-value as the console and the log give it. */
    String describe() {
      return switch (how) {
        case "bootstrap" -> String.format(Locale.ROOT, "p %.3f", p);
        case "bonferroni" -> String.format(Locale.ROOT, "p at most %.2g (Bonferroni)", p);
        default -> String.format(Locale.ROOT, "p %s (%s)", p == 0 ? "0" : "1", how);
      };
    }
  }

  /**
   * Tests whether any of {@code candidates} beats {@code benchmark} (absolute errors by window key:
   * lower is better) at {@code level}. With {@link #BONFERRONI_FROM} windows or more, where
   * Bonferroni's bound is already below {@code level}, that bound is the p-value returned and no
   * resample is drawn; otherwise {@link #RESAMPLES} resamples, seeded with {@code seed}, in blocks
   * of at least {@code minBlock} days (the horizon: the errors of an h-step forecast run together
   * over h days).
   */
  static Outcome test(
      Map<String, Double> benchmark,
      List<Map<String, Double>> candidates,
      double level,
      int minBlock,
      long seed) {
    int k = candidates.size();
    List<Map<String, Double>> tested =
        candidates.stream()
            .filter(c -> covered(benchmark, c) >= COVERAGE * benchmark.size())
            .toList();
    // the windows every tested candidate forecast, by day: a day's index for each
    TreeMap<String, List<String>> byDay = new TreeMap<>();
    for (String key : benchmark.keySet()) {
      if (tested.stream().allMatch(c -> c.containsKey(key))) {
        byDay.computeIfAbsent(Sample.targetDayOfKey(key), d -> new ArrayList<>()).add(key);
      }
    }
    int days = byDay.size();
    int n = byDay.values().stream().mapToInt(List::size).sum();
    if (n < 2 || tested.isEmpty()) {
      return new Outcome(Double.NaN, n, k, tested.size(), 1, "too few windows");
    }
    int t = tested.size();
    double[][] daySums = new double[t][days]; // each candidate's gains summed over a day's windows
    double[] dayCounts = new double[days];
    double[] mean = new double[t];
    double[] sd = new double[t];
    boolean[] never = new boolean[t]; // not a finite gain on some window, or none better
    double statistic = 0;
    for (int c = 0; c < t; c++) {
      Map<String, Double> errors = tested.get(c);
      double sum = 0;
      double squares = 0;
      int u = 0;
      for (List<String> keys : byDay.values()) {
        for (String key : keys) {
          double gain = benchmark.get(key) - errors.get(key);
          daySums[c][u] += gain;
          sum += gain;
          squares += gain * gain;
        }
        dayCounts[u++] = keys.size();
      }
      mean[c] = sum / n;
      sd[c] = Math.sqrt(Math.max(0, (squares - n * mean[c] * mean[c]) / (n - 1)));
      if (!Double.isFinite(mean[c]) || !Double.isFinite(sd[c])) {
        never[c] = true; // an error that is not a number never makes a candidate better
      } else if (sd[c] <= 1e-12 * Math.abs(mean[c])) { // sd 0 included
        if (mean[c] > 0) { // better on every window by the same: no luck can do that
          return new Outcome(Double.POSITIVE_INFINITY, n, k, t, 0, "better on every window");
        }
        never[c] = true;
      } else {
        statistic = Math.max(statistic, Math.sqrt(n) * mean[c] / sd[c]);
      }
    }
    if (!(statistic > 0)) {
      return new Outcome(statistic, n, k, t, 1, "none better");
    }
    double bonferroni = Math.min(1, t * new NormalDistribution().cumulativeProbability(-statistic));
    if (n >= BONFERRONI_FROM && bonferroni < level) {
      return new Outcome(statistic, n, k, t, bonferroni, "bonferroni");
    }
    int block = Math.min(days, Math.max(minBlock, blockLength(days)));
    int blocks = (days + block - 1) / block;
    // each candidate's gains and the windows over the block of days starting at each day, wrapping
    // round the end
    double[][] blockSums = new double[t][];
    double[] blockCounts = circularBlockSums(dayCounts, block);
    double[] recentre = new double[t];
    double threshold = Math.sqrt(2 * Math.log(Math.max(Math.E, Math.log(n))) / n);
    for (int c = 0; c < t; c++) {
      if (!never[c]) {
        blockSums[c] = circularBlockSums(daySums[c], block);
        recentre[c] = mean[c] >= -sd[c] * threshold ? mean[c] : 0;
      }
    }
    SplittableRandom random = new SplittableRandom(seed);
    int[] starts = new int[blocks];
    int atLeast = 0;
    for (int b = 0; b < RESAMPLES; b++) {
      double windows = 0;
      for (int i = 0; i < blocks; i++) {
        starts[i] = random.nextInt(days);
        windows += blockCounts[starts[i]];
      }
      double largest = 0;
      for (int c = 0; c < t; c++) {
        if (never[c]) {
          continue;
        }
        double sum = 0;
        for (int start : starts) {
          sum += blockSums[c][start];
        }
        largest = Math.max(largest, Math.sqrt(windows) * (sum / windows - recentre[c]) / sd[c]);
      }
      if (largest >= statistic) {
        atLeast++;
      }
    }
    return new Outcome(statistic, n, k, t, (atLeast + 1.0) / (RESAMPLES + 1.0), "bootstrap");
  }

  /**
   * The one-sided level of a rule "beaten by {@code standardErrors} standard errors" for one
   * comparison: the normal tail beyond it (2: 0.023; 1: 0.16).
   */
  static double levelOf(double standardErrors) {
    return new NormalDistribution().cumulativeProbability(-standardErrors);
  }

  /** Blocks of about the cube root of the days (Politis and White's order for a mean): 3 for 24. */
  static int blockLength(int days) {
    return Math.max(1, (int) Math.round(Math.cbrt(days)));
  }

  /** The sum of {@code block} values from each index on, wrapping round the end. */
  private static double[] circularBlockSums(double[] values, int block) {
    int n = values.length;
    double[] sums = new double[n];
    double sum = 0;
    for (int i = 0; i < block; i++) {
      sum += values[i % n];
    }
    for (int s = 0; s < n; s++) {
      sums[s] = sum;
      sum += values[(s + block) % n] - values[s];
    }
    return sums;
  }

  private static long covered(Map<String, Double> benchmark, Map<String, Double> candidate) {
    return benchmark.keySet().stream().filter(candidate::containsKey).count();
  }
}
