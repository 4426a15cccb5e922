package dev.forecaster.model;

import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslateException;
import ai.djl.translate.TranslatorContext;
import java.nio.FloatBuffer;

/**
 * Scores N windows in one forward pass and returns N × {@link #outputs()} forecasts in real units
 * (every horizon of each window).
 *
 * <p>Not thread-safe (it wraps a DJL {@link Predictor}): one per thread. The native memory of each
 * call lives in the predictor context's own manager and is freed when the call returns; close the
 * predictor when the thread is done with it.
 */
public final class BatchedPredictor implements AutoCloseable {

  private final WindowEncoder encoder;
  private final Predictor<Batch, float[]> small;
  private final Predictor<Batch, float[]> large;
  private final int smallUpTo;
  private final int floatsPerWindow;
  private final int outputs;
  private final String network;
  private final String largeNetwork;

  /** Runs {@code network} at every batch size. */
  BatchedPredictor(LoadedModel model, Model network) {
    this(model, network, null, Integer.MAX_VALUE);
  }

  /**
   * Runs {@code small} for batches of up to {@code smallUpTo} windows and {@code large} (when not
   * null) for larger ones: the same forecasts, each form where it is the faster.
   */
  BatchedPredictor(LoadedModel model, Model small, Model large, int smallUpTo) {
    this.encoder = model.encoder();
    this.outputs = model.spec().horizons();
    this.floatsPerWindow = encoder.floatsPerWindow();
    this.small = small.newPredictor(new BatchTranslator(model.spec()));
    this.large = large == null ? null : large.newPredictor(new BatchTranslator(model.spec()));
    this.smallUpTo = large == null ? Integer.MAX_VALUE : smallUpTo;
    this.network = small.getName();
    this.largeNetwork = large == null ? network : large.getName();
  }

  /**
   * The name of the DJL model a batch of {@code windows} runs through (the fused serving form's
   * ends in {@code -fused}).
   */
  public String networkFor(int windows) {
    return windows <= smallUpTo ? network : largeNetwork;
  }

  /** Forecasts per window: one per horizon. */
  public int outputs() {
    return outputs;
  }

  /**
   * Predicts {@code count} windows already encoded by {@link WindowEncoder#encode}, back to back in
   * {@code encoded}, writing the forecasts in real units into {@code out}: window i's forecast of
   * its {@code j}-th horizon at {@code i * outputs() + j}; a level model's window far outside the
   * levels it was fitted on gets persistence ({@link WindowEncoder#outsideFittedLevels}).
   *
   * @param baseValues each window's raw target value at its last reading
   * @return how many of the windows got persistence, lying whole outside the fitted levels
   */
  public int predict(float[] encoded, double[] baseValues, int count, double[] out)
      throws TranslateException {
    if (count == 0) {
      return 0;
    }
    if (encoded.length < count * floatsPerWindow
        || baseValues.length < count
        || out.length < count * outputs) {
      throw new IllegalArgumentException("buffers hold fewer than " + count + " windows");
    }
    float[] network = (count <= smallUpTo ? small : large).predict(new Batch(encoded, count));
    int persisted = 0;
    for (int i = 0; i < count; i++) {
      boolean persist = encoder.outsideFittedLevels(encoded, i * floatsPerWindow);
      persisted += persist ? 1 : 0;
      for (int j = 0; j < outputs; j++) {
        int o = i * outputs + j;
        out[o] = persist ? baseValues[i] : encoder.toRealUnits(baseValues[i], network[o]);
      }
    }
    return persisted;
  }

  /**
   * Runs each network form once on zero windows, as many as it will see at most ({@code maxWindows}
   * in all): a fresh model's first pass allocates and prepares what later ones reuse, and is better
   * paid before it serves than by the first batch it scores.
   */
  public void warmUp(int maxWindows) throws TranslateException {
    float[] zeros = new float[maxWindows * floatsPerWindow];
    small.predict(new Batch(zeros, Math.min(maxWindows, smallUpTo)));
    if (large != null && maxWindows > smallUpTo) {
      large.predict(new Batch(zeros, maxWindows));
    }
  }

  @Override
  public void close() {
    small.close();
    if (large != null) {
      large.close();
    }
  }

  /** Windows encoded back to back. */
  record Batch(float[] encoded, int count) {}

  private static final class BatchTranslator implements NoBatchifyTranslator<Batch, float[]> {
    private final int window;
    private final int inputs;

    BatchTranslator(ModelSpec spec) {
      this.window = spec.windowLength();
      this.inputs = spec.inputsPerStep();
    }

    @Override
    public NDList processInput(TranslatorContext ctx, Batch batch) {
      int floats = batch.count() * window * inputs;
      NDArray x =
          ctx.getNDManager()
              .create(
                  FloatBuffer.wrap(batch.encoded(), 0, floats),
                  new Shape(batch.count(), window, inputs),
                  DataType.FLOAT32);
      return new NDList(x);
    }

    @Override
    public float[] processOutput(TranslatorContext ctx, NDList list) {
      return list.singletonOrThrow().toFloatArray();
    }
  }
}
