package dev.forecaster.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.forecaster.model.IntervalBand;
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

    List<IntervalBand> bands = Conformal.calibrate(predicted, actual);

    // 80%: floor(100 * 0.1) = 10th and ceil(100 * 0.9) = 90th smallest
    // 95%: floor(100 * 0.025) = 2nd and ceil(100 * 0.975) = 98th smallest
    assertThat(bands).containsExactly(new IntervalBand(0.8, 10, 90), new IntervalBand(0.95, 2, 98));
  }

  @Test
  void tooFewResidualsGiveNoIntervals() {
    assertThat(Conformal.calibrate(new double[39], new double[39])).isEmpty();
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
    List<IntervalBand> bands = Conformal.calibrate(calibrationForecasts, calibrationActuals);
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
}
