package dev.forecaster.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import java.time.LocalDate;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A model with a highway: the linear autoregression runs inside the network the job serves. */
class HighwayTest {

  private static final ModelSpec SPEC =
      TestModels.spec(Architecture.GRU, 2).toBuilder().highway(true).weekday(true).build();

  private static double[] coefficients(long seed) {
    return TestModels.coefficients(SPEC, seed);
  }

  @Test
  void withTheMembersSilencedTheForecastIsTheLinearAutoregressionOfTheEncodedWindow()
      throws Exception {
    double[] c = coefficients(5);
    List<double[][]> windows = TestModels.windows(9, 3, 2);
    List<int[]> days = TestModels.days(9, 3);
    try (LoadedModel model = TestModels.randomModel(SPEC, c, 0.0);
        BatchedPredictor predictor = model.newPredictor()) {
      double[] forecast = TestModels.predict(model, predictor, windows, days);
      WindowEncoder encoder = model.encoder();
      float[] x = new float[encoder.floatsPerWindow()];
      for (int i = 0; i < windows.size(); i++) {
        encoder.encode(windows.get(i), days.get(i), x, 0);
        double linear = c[c.length - 1];
        for (int j = 0; j < x.length; j++) {
          linear += c[j] * x[j];
        }
        double expected = encoder.toRealUnits(encoder.baseValue(windows.get(i)), linear);
        assertThat(forecast[i]).as("window %d", i).isCloseTo(expected, within(1e-3));
      }
    }
  }

  @Test
  void aHighwayModelSurvivesItsArtifactAndTheMembersAddTheirScaledCorrection() throws Exception {
    double[] c = coefficients(6);
    List<double[][]> windows = TestModels.windows(12, 3, 3);
    List<int[]> days = TestModels.days(12, 3);
    try (LoadedModel linearOnly = TestModels.randomModel(SPEC, c, 0.0);
        LoadedModel full = TestModels.randomModel(SPEC, c, 0.5);
        LoadedModel members =
            TestModels.randomModel(SPEC.toBuilder().highway(false).build(), null, 1.0);
        BatchedPredictor p0 = linearOnly.newPredictor();
        BatchedPredictor p1 = full.newPredictor();
        BatchedPredictor pm = members.newPredictor()) {
      double[] a = TestModels.predict(linearOnly, p0, windows, days);
      double[] b = TestModels.predict(full, p1, windows, days);
      double[] m = TestModels.predict(members, pm, windows, days);
      WindowEncoder e = full.encoder();
      for (int i = 0; i < a.length; i++) {
        double base = e.baseValue(windows.get(i));
        // in the network's units: full = highway + 0.5 * members
        double expected = e.networkTarget(base, a[i]) + 0.5 * e.networkTarget(base, m[i]);
        assertThat(e.networkTarget(base, b[i])).isCloseTo(expected, within(1e-4));
      }
      byte[] artifact = ModelArtifact.write(full);
      try (LoadedModel loaded =
              ModelArtifact.load(artifact, ModelArtifact.sha256(artifact), Device.cpu());
          BatchedPredictor again = loaded.newPredictor()) {
        assertThat(loaded.spec().highway()).isTrue();
        assertThat(TestModels.predict(loaded, again, windows, days)).containsExactly(b);
      }
    }
  }

  @Test
  void theDayOfTheWeekIsAnInputAfterTheDayOfTheYear() {
    assertThat(SPEC.inputsPerStep()).isEqualTo(2 + 2 + 2);
    // 2024-01-01 was a Monday, 2024-01-07 a Sunday
    int monday = (int) LocalDate.of(2024, 1, 1).toEpochDay();
    assertThat(WindowEncoder.dayOfWeekAngle(monday)).isEqualTo(0.0);
    assertThat(WindowEncoder.dayOfWeekAngle(monday + 6))
        .isCloseTo(2 * Math.PI * 6 / 7, within(1e-12));
    assertThat(WindowEncoder.dayOfWeekAngle(monday + 7)).isEqualTo(0.0);
  }
}
