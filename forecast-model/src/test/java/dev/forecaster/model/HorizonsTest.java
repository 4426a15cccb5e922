package dev.forecaster.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A model of several horizons: one network per horizon side by side, one forward pass giving every
 * horizon, each exactly what its own one-horizon network gives (rescaled to the model's target
 * scaling), through the artifact too.
 */
class HorizonsTest {

  private static final int HORIZONS = 3;
  private static final ModelSpec ONE =
      TestModels.spec(Architecture.LSTM, 2).toBuilder().highway(true).build();
  private static final ModelSpec SPEC = ONE.toBuilder().horizons(HORIZONS).build();

  private static double[] coefficients(long seed) {
    return TestModels.coefficients(ONE, seed);
  }

  @Test
  void everyHorizonIsItsOwnNetworkRescaledAndAllComeFromOneForwardPass() throws Exception {
    List<double[][]> windows = TestModels.windows(10, 3, 8);
    List<int[]> days = TestModels.days(10, 3);
    double[] scale = {1.0, 1.7, 2.4};
    double[] shift = {0.0, 0.3, -0.5};
    List<Networks.Parts> parts = new ArrayList<>();
    List<double[]> alone = new ArrayList<>();
    for (int j = 0; j < HORIZONS; j++) {
      Networks.Parts p = TestModels.randomParts(ONE, coefficients(20 + j), 0.6, 100 + j);
      try (LoadedModel single = Networks.assemble(ONE, p, Device.cpu());
          BatchedPredictor predictor = single.newPredictor()) {
        alone.add(TestModels.predict(single, predictor, windows, days));
      }
      parts.add(p.affine(scale[j], shift[j]));
    }
    try (LoadedModel model = Networks.assembleHorizons(SPEC, parts, Device.cpu());
        BatchedPredictor predictor = model.newPredictor()) {
      assertThat(predictor.outputs()).isEqualTo(HORIZONS);
      double[] all = TestModels.predict(model, predictor, windows, days);
      assertThat(all).hasSize(windows.size() * HORIZONS);
      WindowEncoder e = model.encoder();
      for (int i = 0; i < windows.size(); i++) {
        double base = e.baseValue(windows.get(i));
        for (int j = 0; j < HORIZONS; j++) {
          // in the network's units: horizon j = scale * its own network + shift
          double expected = scale[j] * e.networkTarget(base, alone.get(j)[i]) + shift[j];
          assertThat(e.networkTarget(base, all[i * HORIZONS + j]))
              .as("window %d, horizon %d", i, j + 1)
              .isCloseTo(expected, within(1e-4));
        }
      }
      byte[] artifact = ModelArtifact.write(model);
      try (LoadedModel loaded =
              ModelArtifact.load(artifact, ModelArtifact.sha256(artifact), Device.cpu());
          BatchedPredictor again = loaded.newPredictor()) {
        assertThat(loaded.spec().horizons()).isEqualTo(HORIZONS);
        assertThat(TestModels.predict(loaded, again, windows, days)).containsExactly(all);
      }
    }
  }

  @Test
  void aModelWithoutAHighwayTakesTheShiftInItsMembers() throws Exception {
    ModelSpec one = ONE.toBuilder().highway(false).build();
    List<double[][]> windows = TestModels.windows(6, 3, 9);
    List<int[]> days = TestModels.days(6, 3);
    Networks.Parts p = TestModels.randomParts(one, null, 1.0, 7);
    try (LoadedModel single = Networks.assemble(one, p, Device.cpu());
        LoadedModel moved = Networks.assemble(one, p.affine(2.0, 0.75), Device.cpu());
        BatchedPredictor a = single.newPredictor();
        BatchedPredictor b = moved.newPredictor()) {
      double[] before = TestModels.predict(single, a, windows, days);
      double[] after = TestModels.predict(moved, b, windows, days);
      WindowEncoder e = single.encoder();
      for (int i = 0; i < before.length; i++) {
        double base = e.baseValue(windows.get(i));
        assertThat(e.networkTarget(base, after[i]))
            .isCloseTo(2.0 * e.networkTarget(base, before[i]) + 0.75, within(1e-4));
      }
    }
  }

  @Test
  void eachHorizonTargetsItsOwnReadingDayAndKeepsItsOwnIntervals() {
    IntervalBand narrow = new IntervalBand(0.8, -1, 1);
    IntervalBand wide = new IntervalBand(0.8, -3, 3);
    ModelSpec spec =
        SPEC.toBuilder()
            .readingDays(ReadingDays.WEEKDAYS)
            .intervals(List.of(narrow))
            .laterIntervals(List.of(List.of(wide), List.of()))
            .build();
    LocalDate friday = LocalDate.of(2024, 5, 24);
    assertThat(spec.targetDay(friday, 0)).isEqualTo(LocalDate.of(2024, 5, 27));
    assertThat(spec.targetDay(friday, 2)).isEqualTo(LocalDate.of(2024, 5, 29));
    assertThat(spec.horizonOf(2)).isEqualTo(3);
    assertThat(spec.intervals(0)).containsExactly(narrow);
    assertThat(spec.intervals(1)).containsExactly(wide);
    assertThat(spec.output(1).intervals()).containsExactly(wide);
    assertThat(spec.output(1).horizon()).isEqualTo(2);
    assertThat(spec.output(1).horizons()).isEqualTo(1);
    assertThatThrownBy(() -> SPEC.toBuilder().laterIntervals(List.of(List.of(wide))).build())
        .hasMessageContaining("3 horizons has 1 later calibrations");
  }

  @Test
  void aSpecWrittenBeforeHorizonsExistedReadsAsOneHorizon() throws Exception {
    String json = ModelArtifact.specJson(ONE).replaceAll(",\\s*\"horizons\"\\s*:\\s*1", "");
    assertThat(json).doesNotContain("\"horizons\"");
    assertThat(ModelArtifact.parseSpec(json.getBytes(StandardCharsets.UTF_8)).horizons())
        .isEqualTo(1);
  }
}
