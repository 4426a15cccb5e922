package dev.forecaster.model;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Real DJL networks with seeded random weights, and windows to feed them. */
final class TestModels {

  static ModelSpec spec(Architecture arch, int members) {
    return ModelSpec.builder()
        .name("test-model")
        .version(7)
        .architecture(arch)
        .hiddenSize(4)
        .members(members)
        .features(List.of("temp_max", "wind"))
        .calendar(true)
        .target("temp_max")
        .targetTransform(ValueTransform.CHANGE)
        .windowLength(3)
        .scaling(new Scaling(new double[] {15, 4}, new double[] {7, 1.5}, 0.1, 2.5))
        .training(Map.of("seed", "1"))
        .trainingMetrics(Map.of("meanBestEpoch", 3.0))
        .backtestMetrics(Map.of("mae", 2.0))
        .createdAtMillis(1_700_000_000_000L)
        .build();
  }

  /** A model whose members have seeded random initial weights. */
  static LoadedModel randomModel(ModelSpec spec) throws IOException {
    return randomModel(spec, null, 1.0);
  }

  /**
   * A model whose members have seeded random initial weights, with a highway of {@code
   * coefficients} (null: none) and the members' output scaled by {@code memberScale}.
   */
  static LoadedModel randomModel(ModelSpec spec, double[] coefficients, double memberScale)
      throws IOException {
    return Networks.assemble(
        spec, randomParts(spec, coefficients, memberScale, 1234), Device.cpu());
  }

  /** The parts of {@link #randomModel}, the members' weights drawn from {@code seed}. */
  static Networks.Parts randomParts(
      ModelSpec spec, double[] coefficients, double memberScale, int seed) throws IOException {
    DjlRuntime.engine().setRandomSeed(seed);
    List<byte[]> weights = new ArrayList<>();
    for (int i = 0; i < spec.members(); i++) {
      try (Model m = Model.newInstance("member", Device.cpu(), "PyTorch")) {
        Block member = Networks.member(spec);
        m.setBlock(member);
        member.initialize(m.getNDManager(), DataType.FLOAT32, Networks.inputShape(spec));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        member.saveParameters(new DataOutputStream(out));
        weights.add(out.toByteArray());
      }
    }
    return new Networks.Parts(coefficients, weights, memberScale);
  }

  /** Seeded highway coefficients for {@code spec}'s encoded window, the intercept last. */
  static double[] coefficients(ModelSpec spec, long seed) {
    Random r = new Random(seed);
    double[] c = new double[spec.windowLength() * spec.inputsPerStep() + 1];
    for (int i = 0; i < c.length; i++) {
      c[i] = r.nextGaussian() * 0.3;
    }
    return c;
  }

  /** {@code n} windows of plausible weather, each {@code rows} readings of (temp_max, wind). */
  static List<double[][]> windows(int n, int rows, long seed) {
    Random r = new Random(seed);
    List<double[][]> windows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double[][] w = new double[rows][2];
      for (int t = 0; t < rows; t++) {
        w[t][0] = 15 + 7 * r.nextGaussian();
        w[t][1] = 4 + 1.5 * r.nextGaussian();
      }
      windows.add(w);
    }
    return windows;
  }

  static List<int[]> days(int n, int rows) {
    List<int[]> days = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int[] d = new int[rows];
      for (int t = 0; t < rows; t++) {
        d[t] = 16_500 + i + t;
      }
      days.add(d);
    }
    return days;
  }

  private TestModels() {}

  /**
   * Forecasts of raw windows in one batch, encoded as the job and the trainer encode them: window
   * i's j-th horizon at {@code i * horizons + j}.
   */
  static double[] predict(
      LoadedModel model, BatchedPredictor predictor, List<double[][]> windows, List<int[]> days)
      throws Exception {
    int n = windows.size();
    int fpw = model.encoder().floatsPerWindow();
    float[] encoded = new float[n * fpw];
    double[] base = new double[n];
    for (int i = 0; i < n; i++) {
      model.encoder().encode(windows.get(i), days.get(i), encoded, i * fpw);
      base[i] = model.encoder().baseValue(windows.get(i));
    }
    double[] out = new double[n * predictor.outputs()];
    predictor.predict(encoded, base, n, out);
    return out;
  }
}
