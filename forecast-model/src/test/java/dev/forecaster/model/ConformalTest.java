package dev.forecaster.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ConformalTest {

  @Test
  void boundsAreTheCorrectedOrderStatisticsOfTheResiduals() {
    int n = 99; // residuals 1 .. 99 (actual 1 .. 99 above a forecast of 0)
    double[] predicted = new double[n];
    double[] actual = new double[n];
    for (int i = 0; i < n; i++) {
      actual[n - 1 - i] = i + 1; // in any order
    }

    List<IntervalBand> bands = Conformal.bands(Conformal.residuals(predicted, actual));

    // 80%: floor(100 * 0.1) = 10th and ceil(100 * 0.9) = 90th smallest
    // 95%: floor(100 * 0.025) = 2nd and ceil(100 * 0.975) = 98th smallest
    assertThat(bands).containsExactly(new IntervalBand(0.8, 10, 90), new IntervalBand(0.95, 2, 98));
  }

  @Test
  void tooFewResidualsGiveNoIntervals() {
    assertThat(Conformal.bands(new double[39])).isEmpty();
  }

  @Test
  void newResidualsFromTheSameDistributionAreCoveredAtTheNominalRate() {
    Random random = new Random(11);
    double[] calibrationForecasts = new double[500];
    double[] calibrationActuals = new double[500];
    for (int i = 0; i < 500; i++) {
      calibrationForecasts[i] = 20 + 5 * random.nextGaussian();
      calibrationActuals[i] = calibrationForecasts[i] + 2 * random.nextGaussian() + 0.5;
    }
    List<IntervalBand> bands =
        Conformal.bands(Conformal.residuals(calibrationForecasts, calibrationActuals));
    double[] forecasts = new double[20_000];
    double[] actuals = new double[20_000];
    for (int i = 0; i < forecasts.length; i++) {
      forecasts[i] = 20 + 5 * random.nextGaussian();
      actuals[i] = forecasts[i] + 2 * random.nextGaussian() + 0.5;
    }

    Map<Double, Double> coverage =
        Conformal.coverage(List.of(Conformal.hits(bands, forecasts, actuals)));

    assertThat(coverage.get(0.8)).isCloseTo(0.8, within(0.03));
    assertThat(coverage.get(0.95)).isCloseTo(0.95, within(0.02));
    // the bias of the forecasts moves both bounds up
    assertThat(bands.get(0).lower() + bands.get(0).upper()).isCloseTo(1.0, within(0.4));
  }

  @Test
  void aRollingCalibrationKeepsTheNewestResidualsAndFollowsTheirSpread() {
    List<Double> seed = new java.util.ArrayList<>();
    for (int i = 0; i < 300; i++) {
      seed.add((double) (i % 100) - 49.5); // -49.5 .. 49.5, evenly
    }
    Conformal.Rolling rolling = new Conformal.Rolling(seed);
    assertThat(rolling.residuals()).hasSize(Conformal.ROLLING).isEqualTo(seed.subList(180, 300));
    double narrow = rolling.bands().get(0).upper() - rolling.bands().get(0).lower();

    for (int i = 0; i < Conformal.ROLLING; i++) {
      rolling.add(3 * ((i % 100) - 49.5)); // the errors triple
    }

    double wide = rolling.bands().get(0).upper() - rolling.bands().get(0).lower();
    assertThat(wide).isCloseTo(3 * narrow, within(0.15 * narrow));
  }

  @Test
  void aRollingCalibrationWithoutEnoughResidualsHasNoBandsUntilItHas() {
    Conformal.Rolling rolling = new Conformal.Rolling(List.of());
    assertThat(rolling.bands()).isEmpty();
    for (int i = 0; i < Conformal.MIN_RESIDUALS; i++) {
      rolling.add(i);
      rolling.add(Double.NaN); // ignored
    }
    assertThat(rolling.bands()).extracting(IntervalBand::level).containsExactly(0.8, 0.95);
  }
}
