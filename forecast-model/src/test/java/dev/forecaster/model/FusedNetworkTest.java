package dev.forecaster.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The serving predictor runs every network of a model in one fused pass; it must give what the
 * networks give run one by one, for either cell, one or more layers, members and horizons, with and
 * without a highway.
 */
class FusedNetworkTest {

  @ParameterizedTest(name = "{0}, {1} layer(s), {2} members, {3} horizons, highway {4}")
  @CsvSource({
    "GRU, 1, 1, 1, false",
    "GRU, 1, 3, 1, true",
    "GRU, 2, 2, 3, true",
    "LSTM, 1, 3, 2, false",
    "LSTM, 2, 2, 3, true",
  })
  void theFusedPassForecastsWhatTheNetworksDoOneByOne(
      Architecture arch, int layers, int members, int horizons, boolean highway) throws Exception {
    ModelSpec one =
        TestModels.spec(arch, members).toBuilder().layers(layers).highway(highway).build();
    ModelSpec spec = one.toBuilder().horizons(horizons).build();
    List<Networks.Parts> parts = new ArrayList<>();
    for (int j = 0; j < horizons; j++) {
      parts.add(
          TestModels.randomParts(
                  one, highway ? TestModels.coefficients(one, 30 + j) : null, 0.8, 50 + j)
              .affine(1.0 + 0.4 * j, 0.2 * j));
    }
    List<double[][]> windows = TestModels.windows(37, 3, 11);
    List<int[]> days = TestModels.days(37, 3);
    try (LoadedModel model = Networks.assembleHorizons(spec, parts, Device.cpu());
        BatchedPredictor fused = model.newFusedPredictor();
        BatchedPredictor oneByOne = model.newUnfusedPredictor()) {
      double[] expected = TestModels.predict(model, oneByOne, windows, days);
      double[] actual = TestModels.predict(model, fused, windows, days);
      assertThat(actual).hasSize(windows.size() * horizons);
      for (int i = 0; i < actual.length; i++) {
        assertThat(actual[i]).as("output %d", i).isCloseTo(expected[i], within(1e-4));
      }
      // one window alone (batch 1) too: the job's latency path
      double[] single = TestModels.predict(model, fused, windows.subList(5, 6), days.subList(5, 6));
      for (int j = 0; j < horizons; j++) {
        assertThat(single[j]).isCloseTo(expected[5 * horizons + j], within(1e-4));
      }
      // a pass leaves nothing on the model's own memory: every array it makes is the call's
      int kept = model.serving().getNDManager().getManagedArrays().size();
      for (int i = 0; i < 5; i++) {
        TestModels.predict(model, fused, windows, days);
      }
      assertThat(model.serving().getNDManager().getManagedArrays()).hasSize(kept);
    }
  }

  @Test
  void fromFourNetworksTheServingPredictorIsFusedAndDescribingAModelAgainKeepsIt()
      throws Exception {
    ModelSpec one = TestModels.spec(Architecture.GRU, 1);
    try (LoadedModel single = TestModels.randomModel(one);
        BatchedPredictor p = single.newPredictor()) {
      assertThat(p.networkFor(1)).doesNotEndWith("-fused"); // one network: PyTorch's own layer
    }
    ModelSpec spec = TestModels.spec(Architecture.GRU, 2).toBuilder().horizons(2).build();
    List<Networks.Parts> parts =
        List.of(
            TestModels.randomParts(TestModels.spec(Architecture.GRU, 2), null, 1.0, 1),
            TestModels.randomParts(TestModels.spec(Architecture.GRU, 2), null, 1.0, 2));
    LoadedModel model = Networks.assembleHorizons(spec, parts, Device.cpu());
    double[] before;
    List<double[][]> windows = TestModels.windows(4, 3, 3);
    List<int[]> days = TestModels.days(4, 3);
    try (BatchedPredictor p = model.newPredictor()) {
      assertThat(p.networkFor(1)).endsWith("-fused");
      // a batch beyond FUSED_UP_TO_WINDOWS runs the networks one by one, to the same forecasts
      assertThat(p.networkFor(LoadedModel.FUSED_UP_TO_WINDOWS)).endsWith("-fused");
      assertThat(p.networkFor(LoadedModel.FUSED_UP_TO_WINDOWS + 1)).doesNotEndWith("-fused");
      int big = LoadedModel.FUSED_UP_TO_WINDOWS + 3;
      List<double[][]> many = new ArrayList<>();
      List<int[]> manyDays = new ArrayList<>();
      for (int i = 0; i < big; i++) {
        many.add(windows.get(i % windows.size()));
        manyDays.add(days.get(i % days.size()));
      }
      double[] large = TestModels.predict(model, p, many, manyDays);
      double[] small = TestModels.predict(model, p, windows, days);
      for (int i = 0; i < small.length; i++) {
        assertThat(large[i]).isCloseTo(small[i], within(1e-4));
      }
      before = TestModels.predict(model, p, windows, days);
    }
    try (LoadedModel described = model.describedAs(spec.withVersion(9, 1L));
        BatchedPredictor p = described.newPredictor()) {
      assertThat(TestModels.predict(described, p, windows, days)).containsExactly(before);
    }
  }
}
