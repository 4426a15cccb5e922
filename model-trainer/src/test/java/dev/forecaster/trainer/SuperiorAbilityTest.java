package dev.forecaster.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.junit.jupiter.api.Test;

/**
 * Hansen's test on errors drawn here: where no candidate is better than the benchmark, the best of
 * fifty beats it by two of its own standard errors far more often than the level allows, and the
 * test keeps that to about the level; where one is better, it is found.
 */
class SuperiorAbilityTest {

  private static final LocalDate DAY = LocalDate.of(2020, 1, 1);

  /** Absolute errors on {@code n} days of {@code series}: |N(0, 1)| + 1 - {@code less}. */
  private static Map<String, Double> errors(Random random, String series, int n, double less) {
    Map<String, Double> errors = new LinkedHashMap<>();
    for (int t = 0; t < n; t++) {
      errors.put(series + "@" + DAY.plusDays(t), Math.abs(random.nextGaussian()) + 1 - less);
    }
    return errors;
  }

  private static Map<String, Double> errors(Random random, int n, double less) {
    return errors(random, "s", n, less);
  }

  private static List<Map<String, Double>> noBetter(Random random, int count, int n) {
    List<Map<String, Double>> candidates = new ArrayList<>();
    for (int c = 0; c < count; c++) {
      candidates.add(errors(random, n, 0));
    }
    return candidates;
  }

  @Test
  void theBestOfFiftyForecastsNoBetterThanTheBenchmarkIsRarelyTakenForBetter() {
    Random random = new Random(5);
    double level = SuperiorAbility.levelOf(2);
    int trials = 100;
    int naive = 0; // the best beats the benchmark by two standard errors of its own differences
    int rejected = 0;
    for (int trial = 0; trial < trials; trial++) {
      Map<String, Double> benchmark = errors(random, 30, 0);
      SuperiorAbility.Outcome o =
          SuperiorAbility.test(benchmark, noBetter(random, 50, 30), level, 1, trial);
      assertThat(o.how()).isIn("bootstrap", "none better");
      naive += o.statistic() > 2 ? 1 : 0;
      rejected += o.p() < level ? 1 : 0;
    }
    // one comparison at two standard errors is wrong 2.3% of the time; the best of fifty (alike, as
    // they share the benchmark) a third of the time
    assertThat(level).isCloseTo(0.023, within(0.001));
    assertThat(naive).isGreaterThan(trials / 4);
    // Hansen's test about as often as the level (2.3 of 100 expected; 7 would be 1 in 100)
    assertThat(rejected).isLessThanOrEqualTo(7);
  }

  @Test
  void aForecastThatIsBetterIsFoundAmongFiftyByTheBootstrap() {
    Random random = new Random(6);
    Map<String, Double> benchmark = errors(random, 60, 0);
    List<Map<String, Double>> candidates = noBetter(random, 49, 60);
    List<Map<String, Double>> withABetterOne = new ArrayList<>(candidates);
    // better by half a standard deviation of the errors, on 60 windows: a real gain, not luck
    withABetterOne.add(errors(random, 60, 0.5));
    double level = SuperiorAbility.levelOf(2);

    SuperiorAbility.Outcome better = SuperiorAbility.test(benchmark, withABetterOne, level, 1, 1);
    SuperiorAbility.Outcome none = SuperiorAbility.test(benchmark, candidates, level, 1, 1);

    assertThat(better.windows()).isEqualTo(60);
    assertThat(better.candidates()).isEqualTo(50);
    assertThat(better.how()).isEqualTo("bootstrap"); // too few windows for Bonferroni's bound
    assertThat(better.p()).isLessThan(level);
    assertThat(none.p()).isGreaterThan(level);
  }

  @Test
  void everySeriesOfADayIsResampledTogether() {
    // two series whose gains are the same on each day (a shock common to both): 40 days, not 80
    // independent windows; a candidate 0.3 better on average is then less sure than 80 would say
    Random random = new Random(8);
    Map<String, Double> benchmark = new LinkedHashMap<>();
    Map<String, Double> candidate = new LinkedHashMap<>();
    for (int t = 0; t < 40; t++) {
      double shock = random.nextGaussian();
      for (String series : List.of("a", "b")) {
        String key = series + "@" + DAY.plusDays(t);
        benchmark.put(key, 2.0);
        candidate.put(key, 2.0 - 0.3 - shock);
      }
    }
    SuperiorAbility.Outcome o =
        SuperiorAbility.test(benchmark, List.of(candidate), SuperiorAbility.levelOf(1), 1, 3);

    assertThat(o.windows()).isEqualTo(80);
    assertThat(o.how()).isEqualTo("bootstrap");
    // the studentised gain counts 80 windows (3.6: one-sided p 0.0002); a bootstrap of days finds
    // about what 40 give (0.018 here); one of windows would find 0.001, the least 999 resamples
    // give
    double asIfIndependent = new NormalDistribution().cumulativeProbability(-o.statistic());
    assertThat(asIfIndependent).isLessThan(0.001);
    assertThat(o.p()).isGreaterThan(0.005);
  }

  @Test
  void aFarBetterForecastOnManyWindowsNeedsNoBootstrap() {
    Random random = new Random(7);
    Map<String, Double> benchmark = errors(random, 300, 0);
    Map<String, Double> far = errors(random, 300, 1);

    SuperiorAbility.Outcome o =
        SuperiorAbility.test(benchmark, List.of(far, benchmark), SuperiorAbility.levelOf(1), 1, 1);
    // Bonferroni's bound alone is below the level: no resample drawn
    assertThat(o.how()).isEqualTo("bonferroni");
    assertThat(o.p()).isLessThan(1e-6);
    assertThat(o.statistic()).isGreaterThan(10);
    assertThat(o.describe()).startsWith("p at most ").endsWith("(Bonferroni)");
  }

  @Test
  void errorsThatAreNotNumbersOrWindowsTooFewNeverBeatTheBenchmark() {
    Random random = new Random(9);
    Map<String, Double> benchmark = errors(random, 100, 0);
    // a diverged candidate: far better on all but one window, where its error is not a number
    Map<String, Double> diverged = errors(random, 100, 0.9);
    diverged.put("s@" + DAY.plusDays(50), Double.NaN);
    Map<String, Double> infinite = errors(random, 100, 0.9);
    infinite.put("s@" + DAY.plusDays(50), Double.POSITIVE_INFINITY);
    List<Map<String, Double>> candidates = new ArrayList<>(noBetter(random, 20, 100));
    candidates.add(diverged);
    candidates.add(infinite);

    SuperiorAbility.Outcome o =
        SuperiorAbility.test(benchmark, candidates, SuperiorAbility.levelOf(2), 1, 1);
    assertThat(o.tested()).isEqualTo(22);
    assertThat(o.p()).isGreaterThan(SuperiorAbility.levelOf(2));
    // beside one that is better, they change nothing: its statistic, and a p below the level
    Map<String, Double> better = errors(random, 100, 0.5);
    List<Map<String, Double>> withBetter = new ArrayList<>(candidates);
    withBetter.add(better);
    SuperiorAbility.Outcome alone =
        SuperiorAbility.test(benchmark, List.of(better), SuperiorAbility.levelOf(2), 1, 1);
    SuperiorAbility.Outcome among =
        SuperiorAbility.test(benchmark, withBetter, SuperiorAbility.levelOf(2), 1, 1);
    assertThat(among.statistic()).isFinite().isGreaterThanOrEqualTo(alone.statistic());
    assertThat(among.p()).isLessThan(SuperiorAbility.levelOf(2));

    // one window in common: nothing can be told, the benchmark stays
    Map<String, Double> one = Map.of("s@" + DAY, 0.0);
    SuperiorAbility.Outcome few =
        SuperiorAbility.test(Map.of("s@" + DAY, 1.0), List.of(one), 0.5, 1, 1);
    assertThat(few.p()).isEqualTo(1);
    assertThat(few.how()).isEqualTo("too few windows");
  }

  @Test
  void aCandidateThatForecastFewWindowsIsLeftOutRatherThanShrinkEveryOther() {
    Random random = new Random(10);
    Map<String, Double> benchmark = errors(random, 100, 0);
    Map<String, Double> far = errors(random, 100, 1);
    Map<String, Double> half = new LinkedHashMap<>(errors(random, 100, 0));
    half.keySet().removeIf(k -> k.compareTo("s@" + DAY.plusDays(50)) >= 0);
    Map<String, Double> most = new LinkedHashMap<>(errors(random, 100, 0));
    most.remove("s@" + DAY);

    SuperiorAbility.Outcome o =
        SuperiorAbility.test(benchmark, List.of(far, half, most), 0.5, 1, 1);
    assertThat(o.candidates()).isEqualTo(3);
    assertThat(o.tested()).isEqualTo(2);
    assertThat(o.windows()).isEqualTo(99);
  }

  @Test
  void blocksFollowTheDays() {
    assertThat(SuperiorAbility.blockLength(24)).isEqualTo(3);
    assertThat(SuperiorAbility.blockLength(450)).isEqualTo(8);
    assertThat(SuperiorAbility.blockLength(1)).isEqualTo(1);
  }
}
