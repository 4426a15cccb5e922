package dev.forecaster.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.Locale;

/**
 * Whether PyTorch's LSTM kernel computes an LSTM on this CPU. PyTorch 2.7.1 runs it through oneDNN,
 * and on AMD Zen 5 (EPYC 9005) oneDNN's AVX-512 path gives outputs 0.35 away from the LSTM's
 * equations on the fixed test below (GRU is not affected); capped at AVX2 ({@value
 * #ISA_VARIABLE}={@value #SAFE_ISA}, which the {@code forecast} script, the Docker images and the
 * build set) it is right again. The kernel is checked once per loading of this class (once per JVM;
 * in Flink once per job classloader), before the first LSTM is built: a small one with fixed
 * weights, forward through PyTorch, against the LSTM's equations in plain Java. Where they disagree
 * nothing is trained or served with an LSTM: the error says why and what to set.
 */
public final class LstmKernelCheck {

  /** The environment variable that caps the instructions oneDNN uses, read when it starts. */
  public static final String ISA_VARIABLE = "ONEDNN_MAX_CPU_ISA";

  /** The cap under which the kernel is right on every CPU seen so far. */
  public static final String SAFE_ISA = "AVX2";

  /** Float arithmetic over ten steps stays well inside this; the fault is thousands of times it. */
  static final double TOLERANCE = 1e-4;

  private static final int INPUTS = 3;
  private static final int HIDDEN = 6;
  private static final int STEPS = 10;
  private static final int BATCH = 4;

  private static Double error;

  private LstmKernelCheck() {}

  /**
   * Throws where PyTorch's LSTM is wrong on this CPU; checks on the first call only.
   *
   * @throws LstmKernelException naming the difference and the variable to set
   */
  public static synchronized void verify() {
    if (error == null) {
      error = largestError();
    }
    verify(error, System.getenv(ISA_VARIABLE));
  }

  /**
   * Takes {@code measured} as the kernel's error from now on, or measures it again at the next
   * check where null: for tests of what a wrong kernel stops.
   */
  static synchronized void assume(Double measured) {
    error = measured;
  }

  /** What {@link #verify()} does with a measured {@code error}, for a cap set to {@code isa}. */
  static void verify(double error, String isa) {
    if (!(error <= TOLERANCE)) {
      throw new LstmKernelException(
          String.format(
              Locale.ROOT,
              "PyTorch's LSTM kernel gives wrong results on this CPU: %.4g from the LSTM's"
                  + " equations on a fixed test (%s=%s). oneDNN's AVX-512 path does this on AMD"
                  + " Zen 5; start the JVM with the environment variable %s=%s (the forecast"
                  + " script and the Docker images set it), or use --arch gru",
              error,
              ISA_VARIABLE,
              isa == null ? "unset" : isa,
              ISA_VARIABLE,
              SAFE_ISA));
    }
  }

  /** The largest difference between PyTorch's LSTM and the equations on the fixed test. */
  static double largestError() {
    DjlRuntime.engine();
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      LSTM lstm =
          LSTM.builder()
              .setStateSize(HIDDEN)
              .setNumLayers(1)
              .optBatchFirst(true)
              .optReturnState(false)
              .build();
      float[] wIn = fill(manager, lstm, "l_0_i2h_WEIGHT", new Shape(4 * HIDDEN, INPUTS), 1);
      float[] wState = fill(manager, lstm, "l_0_h2h_WEIGHT", new Shape(4 * HIDDEN, HIDDEN), 2);
      float[] bIn = fill(manager, lstm, "l_0_i2h_BIAS", new Shape(4 * HIDDEN), 3);
      float[] bState = fill(manager, lstm, "l_0_h2h_BIAS", new Shape(4 * HIDDEN), 4);
      float[] x = values(BATCH * STEPS * INPUTS, 5, 1.5);
      NDArray output =
          lstm.forward(
                  new ParameterStore(manager, false),
                  new NDList(manager.create(x, new Shape(BATCH, STEPS, INPUTS))),
                  false)
              .singletonOrThrow();
      float[] pytorch = output.toFloatArray(); // (batch, steps, hidden)
      double largest = 0;
      for (int b = 0; b < BATCH; b++) {
        double[] h = new double[HIDDEN];
        double[] c = new double[HIDDEN];
        for (int t = 0; t < STEPS; t++) {
          double[] gates = new double[4 * HIDDEN]; // PyTorch's order: input, forget, cell, output
          for (int g = 0; g < 4 * HIDDEN; g++) {
            double sum = bIn[g] + bState[g];
            for (int i = 0; i < INPUTS; i++) {
              sum += wIn[g * INPUTS + i] * x[(b * STEPS + t) * INPUTS + i];
            }
            for (int j = 0; j < HIDDEN; j++) {
              sum += wState[g * HIDDEN + j] * h[j];
            }
            gates[g] = sum;
          }
          double[] next = new double[HIDDEN];
          for (int j = 0; j < HIDDEN; j++) {
            c[j] =
                sigmoid(gates[HIDDEN + j]) * c[j]
                    + sigmoid(gates[j]) * Math.tanh(gates[2 * HIDDEN + j]);
            next[j] = sigmoid(gates[3 * HIDDEN + j]) * Math.tanh(c[j]);
            double theirs = pytorch[(b * STEPS + t) * HIDDEN + j];
            largest = Math.max(largest, Math.abs(theirs - next[j]));
          }
          h = next;
        }
      }
      return largest;
    }
  }

  private static double sigmoid(double v) {
    return 1 / (1 + Math.exp(-v));
  }

  /** Gives the parameter named {@code suffix} fixed values of {@code shape} and returns them. */
  private static float[] fill(NDManager manager, LSTM lstm, String suffix, Shape shape, int salt) {
    for (Pair<String, Parameter> p : lstm.getParameters()) {
      if (p.getKey().equals(suffix) || p.getKey().endsWith("_" + suffix)) {
        float[] v = values((int) shape.size(), salt, 0.6);
        p.getValue().setArray(manager.create(v, shape));
        return v;
      }
    }
    throw new IllegalStateException("no parameter " + suffix + " in DJL's LSTM");
  }

  /** Fixed values in (-scale, scale): no seed, no generator, the same everywhere. */
  private static float[] values(int size, int salt, double scale) {
    float[] v = new float[size];
    for (int i = 0; i < size; i++) {
      v[i] = (float) (scale * Math.sin(1.7 * i + 0.9 * salt + 0.3 * i * salt));
    }
    return v;
  }
}
