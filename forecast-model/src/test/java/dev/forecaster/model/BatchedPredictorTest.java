package dev.forecaster.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class BatchedPredictorTest {

  @Test
  void oneForwardPassOverABatchGivesWhatOneWindowAtATimeGives() throws Exception {
    List<double[][]> windows = TestModels.windows(37, 3, 7);
    List<int[]> days = TestModels.days(37, 3);
    try (LoadedModel model = TestModels.randomModel(TestModels.spec(Architecture.GRU, 3));
        BatchedPredictor predictor = model.newPredictor()) {
      double[] batched = TestModels.predict(model, predictor, windows, days);
      for (int i = 0; i < windows.size(); i++) {
        double single =
            TestModels.predict(
                model, predictor, List.<double[][]>of(windows.get(i)), List.of(days.get(i)))[0];
        assertThat(batched[i]).as("window %d", i).isCloseTo(single, within(1e-5));
      }
    }
  }

  @Test
  void forecastsComeBackInRealUnitsAroundTheWindowsLastValue() throws Exception {
    // a CHANGE target: the network's scaled output is a change added to the last temp_max
    double[][] cold = {{2, 4}, {1, 4}, {0, 4}};
    double[][] hot = {{32, 4}, {31, 4}, {30, 4}};
    try (LoadedModel model = TestModels.randomModel(TestModels.spec(Architecture.LSTM, 1));
        BatchedPredictor predictor = model.newPredictor()) {
      double[] out =
          TestModels.predict(model, predictor, List.of(cold, hot), TestModels.days(2, 3));
      WindowEncoder encoder = model.encoder();
      // the same change: both inverse transforms of one network output differ by the base values
      assertThat(out[0]).isBetween(-15.0, 15.0);
      assertThat(out[1]).isBetween(15.0, 45.0);
      assertThat(encoder.toRealUnits(30, 0.3) - encoder.toRealUnits(0, 0.3))
          .isCloseTo(30, within(1e-9));
    }
  }

  @Test
  void aLevelModelGivesPersistenceForAWindowWholeOutsideItsLevelsAndCountsIt() throws Exception {
    // temp_max's levels fitted at 15 ± 7: 4 standard deviations reach 43; a window of a station
    // far warmer lies whole above that, the usual one does not
    ModelSpec level =
        TestModels.spec(Architecture.GRU, 1).toBuilder()
            .targetTransform(ValueTransform.LEVEL)
            .build();
    double[][] usual = {{14, 4}, {16, 4}, {15, 4}};
    double[][] far = {{60, 4}, {62, 4}, {61, 4}};
    try (LoadedModel model = TestModels.randomModel(level);
        BatchedPredictor predictor = model.newPredictor()) {
      WindowEncoder encoder = model.encoder();
      int fpw = encoder.floatsPerWindow();
      float[] encoded = new float[2 * fpw];
      int[][] days = TestModels.days(2, 3).toArray(int[][]::new);
      encoder.encode(usual, days[0], encoded, 0);
      encoder.encode(far, days[1], encoded, fpw);
      double[] out = new double[2];

      int persisted = predictor.predict(encoded, new double[] {15, 61}, 2, out);

      assertThat(persisted).isEqualTo(1);
      assertThat(out[1]).isEqualTo(61.0);
      assertThat(out[0]).isNotEqualTo(15.0).isBetween(-50.0, 80.0); // the network's own
    }
  }

  @Test
  void anEmptyBatchIsNoForwardPass() throws Exception {
    try (LoadedModel model = TestModels.randomModel(TestModels.spec(Architecture.GRU, 1));
        BatchedPredictor predictor = model.newPredictor()) {
      // no buffer is touched: a forward pass would fail on these
      assertThatCode(() -> predictor.predict(null, null, 0, null)).doesNotThrowAnyException();
    }
  }
}
